from django import forms
from django.contrib.auth import authenticate
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from accounts.form_fields import EmailAddressField, PasswordField
from accounts.models import normalize_email
from organizations.sso import enterprise_login_mandatory


class SignInForm(forms.Form):
    email = EmailAddressField(
        label=_("Email"),
        # "webauthn": the browser may offer the member's passkeys as they type (passkeys.js).
        widget=forms.EmailInput(attrs={"autocomplete": "username webauthn", "autofocus": True}),
        error_messages={"required": _("Enter your email."), "invalid": _("Enter a valid email.")},
    )
    password = PasswordField(
        label=_("Password"),
        autocomplete="current-password",
        error_messages={"required": _("Enter your password.")},
    )

    error_messages = {
        # One message whether the email exists or not, so the form reveals no accounts.
        "invalid_login": _("The email or password is incorrect."),
        "enterprise_login_required": _("Your organization signs you in with Enterprise login."),
    }

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        email, password = cleaned.get("email"), cleaned.get("password")
        if not (email and password):
            return cleaned
        email = normalize_email(email)
        # Before the password is checked, so a mandatory organization's password is never used.
        if enterprise_login_mandatory(email):
            raise forms.ValidationError(
                self.error_messages["enterprise_login_required"], code="enterprise_login_required"
            )
        self.user = authenticate(self.request, username=email, password=password)
        if self.user is None:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        return cleaned

    def enterprise_login_required(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, "enterprise_login_required")
