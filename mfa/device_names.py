"""The names we give the devices we make: stored in English, shown in the reader's language.

A device's name is django-otp's `Device.name` column, shown wherever the device is:
str(device) in Django admin (titles, breadcrumbs, the "Remove user phone" confirmation)
and admin's name columns. Stored translated, a name would stay in the language of whoever
happened to make the device, whatever the language of the reader. So the phone, the
authenticator app and the recovery codes are stored under their English message, and
device_name() translates it at display time while the stored name is still that default.
No data migration: it would only freeze the names in another language. Names that a member
chose (a passkey's: the browser's label is only the form's starting value) stay as typed.
"""

from functools import cache

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

PHONE = gettext_noop("Mobile phone")
AUTHENTICATOR_APP = gettext_noop("Authenticator app")
RECOVERY_CODES = gettext_noop("Recovery codes")

# The devices that we name -> the name they are made with (mfa.services, mfa.authenticator,
# mfa.recovery). A device of another kind (a passkey) shows its name as it is.
DEFAULT_NAMES = {
    "mfa.SmsDevice": PHONE,
    "otp_totp.TOTPDevice": AUTHENTICATOR_APP,
    "mfa.RecoveryCodeDevice": RECOVERY_CODES,
}


def device_name(device) -> str:
    """`device`'s name in the active language if it is the name we gave it, else as stored."""
    default = DEFAULT_NAMES.get(device._meta.label)
    if default is not None and device.name in _stored_spellings(default):
        return gettext(default)
    return device.name


def device_str(device) -> str:
    """str(device) for every device of ours and django-otp's authenticator apps: django-otp's
    "name (user)", with device_name()."""
    try:
        user = device.user
    except ObjectDoesNotExist:  # as django-otp's Device.__str__: a device not saved yet
        user = None
    return f"{device_name(device)} ({user})"


@cache
def _stored_spellings(default: str) -> frozenset[str]:
    """The ways `default` may be stored: the English message, and each of our languages'
    translation of it, which authenticator apps and recovery codes were stored as before
    (in the language of the request that made them), so that those show translated too."""
    spellings = {default}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            spellings.add(gettext(default))
    return frozenset(spellings)
