"""System checks of mfa's settings: manage.py check, migrate and runserver run them, and
scripts/serve before it starts (check --deploy), so a wrong value stops the site."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def sms_messages_kept_long_enough(app_configs, **kwargs):
    # Imported when the checks run, so that loading the apps does not load the sending code.
    from mfa.sending import sms_messages_kept_for

    try:
        sms_messages_kept_for()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="mfa.E001")]
    return []
