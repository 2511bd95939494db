from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from accounts.form_fields import FullNameField, PasswordField
from accounts.models import User


class InvitationAcceptForm(SetPasswordMixin, forms.Form):
    """Full name and a new password for the account that an invitation creates."""

    full_name = FullNameField(widget=forms.TextInput(attrs={"autofocus": True}))
    password1 = PasswordField(
        label=_("Password"),
        autocomplete="new-password",
        help_text=_("At least 12 characters. A few unrelated words make a good password."),
        error_messages={
            "required": _("Choose a password."),
            "max_length": _("Your password can have at most %(limit_value)d characters."),
        },
    )
    password2 = PasswordField(
        label=_("Password again"),
        autocomplete="new-password",
        error_messages={
            "required": _("Type your password again."),
            "max_length": _("Your password can have at most %(limit_value)d characters."),
        },
    )
    # The template writes this label itself, to link to the privacy policy.
    accept_privacy = forms.BooleanField(
        label=_("I accept the privacy policy"),
        error_messages={"required": _("Accept the privacy policy to create your account.")},
    )

    error_messages = {"password_mismatch": _("The two passwords don't match.")}

    def __init__(self, *args, email: str, enterprise_login: bool = False, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        # An organization that makes enterprise login mandatory leaves no password way in.
        self.enterprise_login = enterprise_login
        if enterprise_login:
            del self.fields["password1"], self.fields["password2"]

    def clean(self):
        cleaned = super().clean()
        if self.enterprise_login:
            return cleaned
        self.validate_passwords()
        # An unsaved user, so that the similarity check compares with this email and name.
        candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
        self.validate_password_for_user(candidate, "password1")
        return cleaned
