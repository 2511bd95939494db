"""Form fields that more than one form asks for, so each has one set of words and rules."""

import unicodedata

from django import forms

# Bidirectional overrides and isolates can make a name display as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class FullNameField(forms.CharField):
    """A person's full name: when an invitation creates the account, and in personal settings."""

    default_error_messages = {
        "required": "Enter your full name.",
        "max_length": "Your name can have at most %(limit_value)d characters "
        "(it has %(show_value)d).",
        "null_characters_not_allowed": "Your name can't contain control characters.",
        "control_characters": "Your name can't contain control characters or line breaks.",
    }

    def __init__(self, **kwargs):
        super().__init__(label="Full name", max_length=150, **kwargs)

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
