"""Forms of personal settings, apart from the password (accounts.password_forms)."""

from django import forms

from accounts.invitation_forms import InvitationAcceptForm
from mfa.forms import CodeForm


class FullNameForm(forms.Form):
    # The same field, words and rules as when the account was created.
    full_name = InvitationAcceptForm.base_fields["full_name"]
    error_messages = {
        "control_characters": InvitationAcceptForm.error_messages["control_characters"],
    }
    clean_full_name = InvitationAcceptForm.clean_full_name

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The settings page holds several forms; none of them should grab the focus.
        self.fields["full_name"].widget.attrs.pop("autofocus", None)


class PhoneCodeForm(CodeForm):
    """The code sent to a new number; a settings change remembers no browser."""

    remember = None
