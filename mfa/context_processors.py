"""The words of remembering a browser, for the pages that explain it (personal settings,
the privacy notice), built from settings.MFA_REMEMBER_FOR as the code form's box is."""

from django.utils.functional import lazy

from mfa.forms import remember_label, remembered_for


def remembered_browsers(request):
    # Lazy: worded by the few pages that show them, not on every page (about 20 us a page,
    # issue 12).
    return {
        "remembered_for": lazy(remembered_for, str)(),
        "remember_label": lazy(remember_label, str)(),
    }
