"""The words of remembering a browser, for the pages that explain it (personal settings,
the privacy notice), built from settings.MFA_REMEMBER_FOR as the code form's box is."""

from django.utils.functional import lazy

from mfa.forms import remember_label, remembered_for

# Lazy: worded by the few pages that show them, not on every page (issue 12). Made once
# here: lazy() builds a class each time it is called.
_remembered_for = lazy(remembered_for, str)
_remember_label = lazy(remember_label, str)


def remembered_browsers(request):
    return {"remembered_for": _remembered_for(), "remember_label": _remember_label()}
