import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.domains import domain_to_ascii
from accounts.form_fields import EMAIL_MAX_LENGTH, email_stored_length_validate
from organizations.models import EmailDomain, EnterpriseLogin
from organizations.saml import METADATA_MAX_CHARS
from organizations.sso import email_domain

# Enterprise login ----------------------------------------------------------------------------


class EnterpriseLoginForm(forms.Form):
    """The email that tells which organization's identity provider to send the person to."""

    email = forms.CharField(
        label=_("Work email"),
        max_length=EMAIL_MAX_LENGTH,
        # A typo in the domain is worded below (not set up), so only the stored length here.
        validators=[email_stored_length_validate],
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": _("Enter your work email.")},
    )

    error_messages = {
        "invalid": _("Enter your work email, like name@company.com."),
        "not_set_up": _("Enterprise login isn't set up for %(domain)s. "
        "Sign in with your email and password instead."),
    }

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        local, _, _ = email.rpartition("@")
        if not local or not email_domain(email):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return email

    def add_not_set_up_error(self):
        # As typed (international names too), not the xn-- form that the look-up used.
        domain = self.cleaned_data["email"].rpartition("@")[2].strip().lower().rstrip(".")
        self.add_error(None, forms.ValidationError(
            self.error_messages["not_set_up"], code="not_set_up", params={"domain": domain}
        ))


# Django admin (support staff) --------------------------------------------------------------

_DOMAIN_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_DOMAIN_LABEL}\.)+{_DOMAIN_LABEL}$")


class EmailDomainForm(forms.ModelForm):
    class Meta:
        model = EmailDomain
        fields = ["domain"]
        error_messages = {
            "domain": {"unique": _("Another organization already claims this domain.")}
        }

    def clean_domain(self):
        # Normalized before the uniqueness check, so "ACME.com." clashes with "acme.com", and
        # stored in the spelling that emails are looked up in (organizations.sso.email_domain):
        # "Bücher.example" is kept as xn--bcher-kva.example.
        domain = domain_to_ascii(self.cleaned_data["domain"].strip().removeprefix("@"))
        if not _DOMAIN.match(domain):
            raise forms.ValidationError(
                _("Enter a domain name like acme.com, without the @ or a path."), code="invalid"
            )
        return domain


class EnterpriseLoginAdminForm(forms.ModelForm):
    idp_metadata_file = forms.FileField(
        label=_("or upload the IdP metadata file"),
        required=False,
        help_text=_("An uploaded file replaces the pasted metadata."),
    )

    class Meta:
        model = EnterpriseLogin
        fields = ["enabled", "mandatory", "idp_metadata_xml", "idp_metadata_file",
                  "email_attribute"]
        widgets = {"idp_metadata_xml": forms.Textarea(attrs={"rows": 8, "cols": 90})}

    def clean_idp_metadata_file(self):
        upload = self.cleaned_data.get("idp_metadata_file")
        if not upload:
            return None
        if upload.size > METADATA_MAX_CHARS:
            raise forms.ValidationError(_("The metadata file is too large (over 1 MB)."),
                                        code="too_large")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("The metadata file is not UTF-8 text."),
                                        code="not_text") from error

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("idp_metadata_file"):
            cleaned["idp_metadata_xml"] = cleaned["idp_metadata_file"]
        return cleaned
