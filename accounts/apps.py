from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Imported here, not at the top: Django loads this module before any model, and
        # session_lifetime reads SecurityEvent to say why a session ended.
        from accounts.session_lifetime import session_lifetime_on_login

        user_logged_in.connect(session_lifetime_on_login, dispatch_uid="session_lifetime_start")
