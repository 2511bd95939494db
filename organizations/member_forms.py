"""The Members page's forms: what is accepted, and the words of each error (STYLE habit 9)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.form_fields import EmailAddressField
from organizations.models import Membership

SEARCH_MAX_LENGTH = 254  # the longest email there can be
ROLE_ERRORS = {
    "required": _("Choose a role: admin or member."),
    "invalid_choice": _("Choose a role: admin or member."),
}


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name or email"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": _("Search for at most %(limit_value)d characters."),
            "null_characters_not_allowed": _("Search for letters, digits or symbols only."),
        },
    )

    def search(self) -> str:
        """The words to look for; nothing when the form is not valid (the errors say why)."""
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class InviteForm(forms.Form):
    email = EmailAddressField(
        label=_("Email"),
        error_messages={
            "required": _("Enter the email address of the person to invite."),
            "invalid": _("Enter a valid email address, like name@example.com."),
            "max_length": _("An email address has at most 254 characters."),
            "null_characters_not_allowed": _("Enter a valid email address, like name@example.com."),
        },
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        error_messages=ROLE_ERRORS,
    )
    # The invitation email's language; the view starts it at the admin's own, which
    # invitation_create also takes when none is sent.
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=settings.LANGUAGES,
        help_text=_("The language of the invitation email."),
        error_messages={"invalid_choice": _("Choose the language of the invitation.")},
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        # A line break inside an address is never a typo: it is a header injection attempt.
        if any(char in email for char in "\r\n"):
            raise forms.ValidationError(self.fields["email"].error_messages["invalid"],
                                        code="invalid")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, error_messages=ROLE_ERRORS
    )
