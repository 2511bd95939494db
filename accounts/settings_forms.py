"""Forms of personal settings, apart from the password (accounts.password_forms) and the
codes of a new phone or authenticator app (mfa.forms)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.form_fields import FullNameField


class FullNameForm(forms.Form):
    # No autofocus: the settings page holds several forms, and none should grab the focus.
    full_name = FullNameField()



class LanguageForm(forms.Form):
    # Each language in its own words, so that anyone finds theirs whatever the page is in.
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The browser's language")), *settings.LANGUAGES],
        help_text=_("Pages, emails and text messages from Backstage are in this language."),
    )
