"""Form fields that more than one form asks for, so each has one set of words and rules."""

import unicodedata

from django import forms
from django.conf import settings
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from accounts.domains import domain_to_ascii
from accounts.models import User, normalize_email

# The email columns' length (User.email, Invitation.email, PasswordResetRequest.email).
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length

# Bidirectional overrides and isolates can make a name display as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class FullNameField(forms.CharField):
    """A person's full name: when an invitation creates the account, and in personal settings."""

    default_error_messages = {
        "required": _("Enter your full name."),
        "max_length": _("Your name can have at most %(limit_value)d characters "
        "(it has %(show_value)d)."),
        "null_characters_not_allowed": _("Your name can't contain control characters."),
        "control_characters": _("Your name can't contain control characters or line breaks."),
    }

    def __init__(self, **kwargs):
        super().__init__(label=_("Full name"), max_length=150, **kwargs)

    def widget_attrs(self, widget):
        return {"autocomplete": "name", **super().widget_attrs(widget)}

    def clean(self, value) -> str:
        # After CharField's own checks: the name is stripped, so "   " arrives as required,
        # and a NUL has already been refused with its own message.
        name = super().clean(value)
        if any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in name):
            raise forms.ValidationError(
                self.error_messages["control_characters"], code="control_characters"
            )
        return name


class PasswordField(forms.CharField):
    """A password as typed (spaces count, so it is not stripped), of at most
    PASSWORD_MAX_LENGTH characters; `autocomplete` tells password managers which one it is."""

    def __init__(self, *, autocomplete: str, autofocus: bool = False, **kwargs):
        attrs = {"autocomplete": autocomplete, **({"autofocus": True} if autofocus else {})}
        super().__init__(
            strip=False, max_length=settings.PASSWORD_MAX_LENGTH,
            widget=forms.PasswordInput(attrs=attrs), **kwargs,
        )


def email_stored_length_validate(email: str) -> None:
    """Refuse an email that would not fit its column as stored: an international domain is
    stored in its xn-- form (normalize_email), which can be three times as long as typed."""
    if len(normalize_email(email)) > EMAIL_MAX_LENGTH:
        raise forms.ValidationError(_("This email address is too long."), code="too_long")


class EmailAddressField(forms.EmailField):
    """An email that every form asks for (sign-in, Forgot password, invitations), valid as
    we store it, so that nothing after the form meets an address it cannot store or mail.

    Besides Django's checks (a NUL among them): an international domain must be one that
    IDNA 2008 accepts (domain_to_ascii gives its xn-- form), so an invisible or
    bidirectional control character is refused before anything is stored or mailed; and
    the stored form must fit the column. The form's own "invalid" words say so.
    """

    default_validators = [*forms.EmailField.default_validators, email_stored_length_validate]
    default_error_messages = {"invalid": EmailValidator.message}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        super().__init__(**kwargs)

    def validate(self, value) -> None:
        super().validate(value)
        domain = value.rpartition("@")[2]
        if not domain.isascii() and not domain_to_ascii(domain):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
