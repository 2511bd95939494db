from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.tasks.signals import task_finished
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Imported here, not at the top: Django loads this module before any model, and
        # these read models.
        from accounts.deactivation import user_active_before_save, user_deactivated_after_save
        from accounts.emails import task_finished_forget
        from accounts.session_lifetime import session_lifetime_on_login

        user_logged_in.connect(session_lifetime_on_login, dispatch_uid="session_lifetime_start")
        task_finished.connect(task_finished_forget, dispatch_uid="task_finished_forget")
        user = self.get_model("User")
        pre_save.connect(user_active_before_save, sender=user, dispatch_uid="user_active_before")
        post_save.connect(
            user_deactivated_after_save, sender=user, dispatch_uid="user_deactivated_after"
        )
