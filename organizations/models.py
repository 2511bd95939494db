from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.domains import domain_to_ascii
from core.http import NEXT_URL_MAX_LENGTH
from organizations.saml import idp_metadata_parse


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    mfa_opt_in = models.BooleanField(
        _("MFA opt-in"), default=False,
        help_text=_("Require the SMS second factor before the global enforcement date."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org"),
        ]

    def __str__(self):
        return _("%(user)s in %(organization)s (%(role)s)") % {
            "user": self.user, "organization": self.organization,
            "role": self.get_role_display(),
        }

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Workspace(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="workspaces",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=60)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="workspace_slug_per_org"),
        ]

    def __str__(self):
        return self.name


class EmailDomain(models.Model):
    """An email domain claimed by one organization (for enterprise login)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="domains",
        verbose_name=_("organization"),
    )
    domain = models.CharField(_("domain"), max_length=253, unique=True)

    class Meta:
        verbose_name = _("email domain")
        verbose_name_plural = _("email domains")
        ordering = ["domain"]

    def __str__(self):
        return self.domain

    def save(self, *args, **kwargs):
        # A Unicode name that is no domain at all ("") stays as typed, for support staff to
        # see and correct.
        self.domain = domain_to_ascii(self.domain) or self.domain
        super().save(*args, **kwargs)


class EnterpriseLogin(models.Model):
    """An organization's enterprise login (SAML2): its identity provider and whether it is required.

    Support staff paste the IdP's metadata; `clean` parses it into the fields below it, so
    the sign-in never parses metadata on the way.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="enterprise_login",
        verbose_name=_("organization"),
    )
    enabled = models.BooleanField(
        _("enabled"), default=False,
        help_text=_("Members of the claimed domains may sign in with their IdP."),
    )
    mandatory = models.BooleanField(
        _("mandatory"), default=False,
        help_text=_("Refuse password sign-in for the claimed domains: enterprise login only."),
    )
    idp_metadata_xml = models.TextField(
        _("IdP metadata (XML)"), blank=True,
        help_text=_("The identity provider's SAML2 metadata, as the customer's IdP exports it."),
    )
    email_attribute = models.CharField(
        _("email attribute"), max_length=255, blank=True,
        help_text=_("The SAML attribute that carries the email. Leave blank to use the NameID."),
    )
    # Parsed from idp_metadata_xml by clean().
    idp_entity_id = models.CharField(
        _("IdP entity ID"), max_length=1024, blank=True, editable=False
    )
    idp_sso_url = models.CharField(
        _("IdP sign-in URL"), max_length=2048, blank=True, editable=False
    )
    idp_certificates = models.JSONField(
        _("IdP signing certificates"), default=list, blank=True, editable=False,
        help_text=_("Base64 DER, as in the metadata; more than one while the IdP rolls its key."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("enterprise login")
        verbose_name_plural = _("enterprise logins")

    def __str__(self):
        return _("Enterprise login of %(organization)s") % {"organization": self.organization}

    @property
    def is_ready(self) -> bool:
        return bool(self.idp_entity_id and self.idp_sso_url and self.idp_certificates)

    def clean(self):
        super().clean()
        errors = {}
        if self.idp_metadata_xml.strip():
            try:
                parsed = idp_metadata_parse(self.idp_metadata_xml)
            except ValidationError as error:
                errors["idp_metadata_xml"] = error
            else:
                self.idp_entity_id = parsed.entity_id
                self.idp_sso_url = parsed.sso_url
                self.idp_certificates = parsed.certificates
        else:
            self.idp_entity_id, self.idp_sso_url, self.idp_certificates = "", "", []
            if self.enabled:
                errors["idp_metadata_xml"] = ValidationError(
                    _("Paste the identity provider's metadata before turning enterprise login on."),
                    code="metadata_required",
                )
        if self.mandatory and not self.enabled:
            errors["mandatory"] = ValidationError(
                _("Enterprise login must be enabled to be mandatory."),
                code="mandatory_needs_enabled",
            )
        self.email_attribute = self.email_attribute.strip()
        if errors:
            raise ValidationError(errors)


class SamlAuthnRequest(models.Model):
    """An AuthnRequest this site sent to an IdP and whose answer has not come back yet.

    Kept in the database rather than the session: the IdP's answer is a cross-site POST, which
    the SameSite=Lax session cookie does not accompany. Each is used once (deleted on use).
    """

    request_id = models.CharField(_("request ID"), max_length=255, unique=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    # As long as core.http.safe_next_url lets a `next` be.
    next_url = models.CharField(_("next URL"), max_length=NEXT_URL_MAX_LENGTH, blank=True)
    # SHA-256 of the token in the browser's enterprise-login cookie (organizations.sso), so
    # that a response is only accepted in the browser that started the sign-in.
    browser_hash = models.CharField(_("browser hash"), max_length=64, blank=True)
    # Who started it: the starts of one client IP are limited (organizations.sso).
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("SAML sign-in request")
        verbose_name_plural = _("SAML sign-in requests")
        indexes = [models.Index(fields=["ip_address", "created_at"])]

    def __str__(self):
        return self.request_id


class UsedSamlAssertion(models.Model):
    """An assertion ID already accepted: the unique constraint makes a replay fail, even when
    two app servers receive the same assertion at the same moment. Kept until it expires."""

    assertion_id = models.CharField(_("assertion ID"), max_length=255, unique=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    not_on_or_after = models.DateTimeField(_("valid until"), db_index=True)
    used_at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("used SAML assertion")
        verbose_name_plural = _("used SAML assertions")

    def __str__(self):
        return self.assertion_id
