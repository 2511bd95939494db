"""The words of remembering a browser, for the pages that explain it (personal settings,
the privacy notice), built from settings.MFA_REMEMBER_FOR as the code form's box is."""

from mfa.forms import remember_label, remembered_for


def remembered_browsers(request):
    return {"remembered_for": remembered_for(), "remember_label": remember_label()}
