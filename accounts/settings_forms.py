"""Forms of personal settings, apart from the password (accounts.password_forms)."""

from django import forms

from accounts.form_fields import FullNameField
from mfa.forms import AuthenticatorCodeForm, CodeForm


class FullNameForm(forms.Form):
    # No autofocus: the settings page holds several forms, and none should grab the focus.
    full_name = FullNameField()


class PhoneCodeForm(CodeForm):
    """The code sent to a new number; a settings change remembers no browser."""

    remember = None


class AuthenticatorSetupForm(AuthenticatorCodeForm):
    """The first code from a new authenticator app; a settings change remembers no browser."""

    remember = None
