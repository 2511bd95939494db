"""Forms of personal settings, apart from the password (accounts.password_forms) and the
codes of a new phone or authenticator app (mfa.forms)."""

from django import forms

from accounts.form_fields import FullNameField


class FullNameForm(forms.Form):
    # No autofocus: the settings page holds several forms, and none should grab the focus.
    full_name = FullNameField()

