from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in

from accounts.session_lifetime import session_lifetime_on_login


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        user_logged_in.connect(session_lifetime_on_login, dispatch_uid="session_lifetime_start")
