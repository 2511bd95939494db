from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


class MfaConfig(AppConfig):
    name = "mfa"
    verbose_name = _("Second factor")
    # This module holds a second AppConfig (below): this one is the app's.
    default = True


class AuthenticatorAppsConfig(TotpConfig):
    """django-otp's TOTP plugin (the authenticator apps), as INSTALLED_APPS names it: the
    same app, headed in admin in the staff member's language rather than "Otp_Totp"."""

    verbose_name = _("Authenticator apps")
