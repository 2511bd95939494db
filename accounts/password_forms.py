"""Choosing a new password (personal settings, password reset) and asking for a reset link."""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from accounts.form_fields import EmailAddressField, PasswordField
from accounts.lockout import lockout_pause_words


class NewPasswordForm(SetPasswordMixin, forms.Form):
    """A new password, twice, under the rules of AUTH_PASSWORD_VALIDATORS for `user`."""

    password1 = PasswordField(
        label=_("New password"),
        autocomplete="new-password",
        help_text=_("At least 12 characters. A few unrelated words make a good password."),
        error_messages={
            "required": _("Choose a new password."),
            "max_length": _("Your password can have at most %(limit_value)d characters."),
        },
    )
    password2 = PasswordField(
        label=_("New password again"),
        autocomplete="new-password",
        error_messages={
            "required": _("Type your new password again."),
            "max_length": _("Your password can have at most %(limit_value)d characters."),
        },
    )

    error_messages = {"password_mismatch": _("The two passwords don't match.")}

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        # The saved user: the similarity check compares with their email and name.
        self.validate_password_for_user(self.user, "password1")
        return cleaned


class CurrentPasswordMixin:
    """A `password` field checked against `self.user`'s own password, under the same
    lockout as the sign-in page; the form gives the words ("wrong_password", "locked")."""

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Through authenticate(), so that django-axes counts wrong passwords here as it does
        # at sign-in: whoever holds a session cannot guess the password without limit.
        checked = authenticate(self.request, username=self.user.email, password=password)
        if getattr(self.request, "axes_locked_out", False):
            # Left set, axes' middleware would answer with the sign-in page (lockout_response);
            # the member is signed in, so this form says it instead.
            self.request.axes_locked_out = False
            raise forms.ValidationError(
                self.error_messages["locked"].format(pause=lockout_pause_words()), code="locked"
            )
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError(
                self.error_messages["wrong_password"], code="wrong_password"
            )
        return password


class PasswordChangeForm(CurrentPasswordMixin, NewPasswordForm):
    # Named "password" because django-axes stores the POST of a failed authenticate() and
    # masks only the fields it knows (AXES_SENSITIVE_PARAMETERS): a wrong current password
    # must not end up in its table in clear.
    password = PasswordField(
        label=_("Current password"),
        autocomplete="current-password",
        error_messages={"required": _("Enter your current password.")},
    )
    field_order = ["password", "password1", "password2"]

    error_messages = {
        **NewPasswordForm.error_messages,
        "wrong_password": _("Your current password isn't right."),
        "locked": _("Too many wrong passwords. For your security, changing your password is "
        "paused for {pause}."),
    }

    def __init__(self, user, request, *args, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)


class PasswordConfirmForm(CurrentPasswordMixin, forms.Form):
    """Confirm your password, before a security change (accounts.reauth)."""

    password = PasswordField(
        label=_("Password"),
        autocomplete="current-password",
        autofocus=True,
        error_messages={"required": _("Enter your password.")},
    )

    error_messages = {
        "wrong_password": _("That password isn't right."),
        "locked": _("Too many wrong passwords. For your security, confirming your password is "
        "paused for {pause}."),
    }

    def __init__(self, user, request, *args, **kwargs):
        self.user = user
        self.request = request
        super().__init__(*args, **kwargs)


class PasswordResetRequestForm(forms.Form):
    email = EmailAddressField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": _("Enter your email."), "invalid": _("Enter a valid email.")},
    )
