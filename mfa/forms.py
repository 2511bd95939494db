import functools
import re

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import PhoneNumberType, geocoder

from core.limits import duration_words
from mfa.codes import CODE_DIGITS
from mfa.recovery import recovery_code_normalize

SMS_CAPABLE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def remembered_for() -> str:
    """How long a remembered browser skips the code step, in words ("14 days")."""
    return duration_words(settings.MFA_REMEMBER_FOR)


def remember_label() -> str:
    return _("Remember me for %(duration)s") % {"duration": remembered_for()}


def country_name(region: str) -> str:
    # In the page's language: phonenumbers' geocoder names countries in fr and de too.
    return _country_name(region, get_language())


@functools.cache
def _country_name(region: str, language: str) -> str:
    """Kept for each region and language: the geocoder takes about 50 us a country, a
    millisecond for the list of every phone form (issue 12); the names never change."""
    example = phonenumbers.example_number(region)
    return (example and geocoder.country_name_for_number(example, language)) or region


def country_choices() -> list[tuple[str, str]]:
    """The allowed countries, by name, with their calling code: the same list the picker shows."""
    countries = sorted((country_name(region), region) for region in settings.SMS_ALLOWED_COUNTRIES)
    return [
        (region, f"{name} (+{phonenumbers.country_code_for_region(region)})")
        for name, region in countries
    ]


# Digits of any script (phonenumbers reads them), the usual separators, and a leading +.
# Letters are refused although phonenumbers would read them as a keypad's digits.
PHONE_CHARACTERS = re.compile(r"\+?[\d\s().\-/]+")


class PhoneForm(forms.Form):
    country = forms.ChoiceField(label=_("Country"), required=False)
    number = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        error_messages={
            "required": _("Enter your mobile number."),
            "max_length": _("That is too long for a phone number."),
        },
    )

    error_messages = {
        "country_required": _("Choose the country of your number, or type it with its + code."),
        "invalid": _("Enter a valid mobile number, for example +41 79 123 45 67."),
        "invalid_for_country": _("This isn't a valid number for {country}. Check the number and "
        "the country."),
        "not_mobile": _("This number can't receive text messages. Enter a mobile number."),
        "country_not_allowed": _("Text messages can't be sent to numbers in {country} yet. "
        "Contact your organization admin."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose a country")), *country_choices()]

    def clean_number(self):
        number = self.cleaned_data["number"]
        if not PHONE_CHARACTERS.fullmatch(number):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number

    def clean(self):
        cleaned = super().clean()
        number, region = cleaned.get("number"), cleaned.get("country") or None
        if not number:
            return cleaned
        # A number typed with its + code needs no country; the picker posts E.164.
        if not number.lstrip().startswith("+") and region is None:
            raise forms.ValidationError(
                self.error_messages["country_required"], code="country_required"
            )
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        found = phonenumbers.region_code_for_number(parsed)
        if not (phonenumbers.is_possible_number(parsed) and phonenumbers.is_valid_number(parsed)):
            message = self.error_messages["invalid_for_country"].format(
                country=country_name(region or found) if (region or found) else _("that country")
            )
            raise forms.ValidationError(message, code="invalid_for_country")
        if phonenumbers.number_type(parsed) not in SMS_CAPABLE_TYPES:
            raise forms.ValidationError(self.error_messages["not_mobile"], code="not_mobile")
        if found not in settings.SMS_ALLOWED_COUNTRIES:
            raise forms.ValidationError(
                self.error_messages["country_not_allowed"].format(country=country_name(found)),
                code="country_not_allowed",
            )
        cleaned["phone"] = PhoneNumber.from_string(
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        )
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "autofocus": True,
            }
        ),
        error_messages={"required": _("Enter the code from the text message.")},
    )
    # Lazy: worded when the page is drawn, from the setting as it is then.
    remember = forms.BooleanField(label=lazy(remember_label, str)(), required=False)

    def clean_code(self):
        code = self.cleaned_data["code"].replace(" ", "")
        # isdecimal() alone would let Arabic-Indic or fullwidth digits through.
        if len(code) != CODE_DIGITS or not (code.isascii() and code.isdigit()):
            raise forms.ValidationError(
                _("The code is %(digits)d digits, like 123456.") % {"digits": CODE_DIGITS},
                code="format",
            )
        return code


class AuthenticatorCodeForm(CodeForm):
    """The code that the member's authenticator app shows, at sign-in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["required"] = (
            _("Enter the code from your authenticator app.")
        )

    @property
    def code_malformed(self) -> bool:
        """A code was typed that cannot be one (letters, too short, too long)."""
        return self.has_error("code") and not self.has_error("code", "required")


class PhoneCodeForm(CodeForm):
    """The code sent to a new number; a settings change remembers no browser."""

    remember = None


class StepUpCodeForm(CodeForm):
    """A code by text message for a session already signed in (before Django admin)."""

    remember = None


class StepUpAuthenticatorForm(AuthenticatorCodeForm):
    """The app's code for a session already signed in (before Django admin)."""

    remember = None


class AuthenticatorSetupForm(AuthenticatorCodeForm):
    """The first code from a new authenticator app; a settings change remembers no browser."""

    remember = None


class RecoveryCodeForm(forms.Form):
    """One of the member's recovery codes, at sign-in."""

    code = forms.CharField(
        label=_("Recovery code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        error_messages={"required": _("Enter one of your recovery codes.")},
    )

    def clean_code(self):
        if recovery_code_normalize(self.cleaned_data["code"]) is None:
            raise forms.ValidationError(
                _("A recovery code is 10 letters and digits, like abcde-23456."), code="format"
            )
        return self.cleaned_data["code"]


class PasskeyForm(forms.Form):
    """What static/js/passkeys.js posts after the browser's passkey dialog: its answer."""

    credential = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20_000)

    error_messages = {
        # A hidden field's error would show nowhere: this one goes to the top of the form.
        "no_answer": _("Your browser didn't send a passkey. Press the button again."),
    }

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("credential"):
            raise forms.ValidationError(self.error_messages["no_answer"], code="no_answer")
        return cleaned


class PasskeySigninForm(PasskeyForm):
    """The passkey at sign-in, after the password: the answer, and Remember me."""

    remember = forms.BooleanField(label=lazy(remember_label, str)(), required=False)


class PasskeyNameForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("For you to tell your passkeys apart, such as the device that holds it."),
        error_messages={
            "required": _("Enter a name for this passkey."),
            "max_length": _("Keep the name to 64 characters or fewer."),
        },
    )
