from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


class MfaConfig(AppConfig):
    name = "mfa"
    verbose_name = _("Second factor")
    # This module holds a second AppConfig (below): this one is the app's.
    default = True

    def ready(self):
        from mfa import checks  # noqa: F401  (registers them)


class AuthenticatorAppsConfig(TotpConfig):
    """django-otp's TOTP plugin (the authenticator apps), as INSTALLED_APPS names it: the
    same app, named in admin in the staff member's language rather than "Otp_Totp" and
    "TOTP devices"."""

    verbose_name = _("Authenticator apps")

    def ready(self):
        # django-otp names its model in English only. Its migrations read the Meta options
        # as django-otp declares them (Options.original_attrs), not these: the names change
        # for admin, and django-otp's app needs no migration of ours.
        model = self.get_model("TOTPDevice")
        options = model._meta
        options.verbose_name = _("authenticator app")
        options.verbose_name_plural = _("authenticator apps")
        # And names each app as our devices do (mfa.models.DeviceFields): "Authenticator
        # app", the name we give it, in the reader's language (mfa.device_names).
        from mfa.device_names import device_str

        model.__str__ = device_str
