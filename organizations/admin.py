"""Django admin for support staff: organizations and what hangs off them.

Inlines are declared first and listed in `OrganizationAdmin.inlines`; the members and
workspaces inlines come from organizations.member_admin.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from organizations.forms import EmailDomainForm, EnterpriseLoginAdminForm
from organizations.member_admin import (
    MembershipInline,
    OrganizationMembersAdminMixin,
    WorkspaceInline,
)
from organizations.models import EmailDomain, EnterpriseLogin, Organization
from organizations.saml import sp_acs_url, sp_entity_id, sp_metadata_url

# Inlines ---------------------------------------------------------------------------------------


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    form = EmailDomainForm
    extra = 0
    verbose_name = _("claimed email domain")
    verbose_name_plural = _("claimed email domains (enterprise login)")


class EnterpriseLoginInline(admin.StackedInline):
    model = EnterpriseLogin
    form = EnterpriseLoginAdminForm
    can_delete = False
    max_num = 1
    fields = [
        "enabled", "mandatory", "idp_metadata_xml", "idp_metadata_file", "email_attribute",
        "idp_entity_id", "idp_sso_url", "signing_certificates",
    ]
    readonly_fields = ["idp_entity_id", "idp_sso_url", "signing_certificates"]

    @admin.display(description=_("IdP signing certificates"))
    def signing_certificates(self, login):
        if not login.idp_certificates:
            return "—"
        return format_html_join(
            "", "<div><code>{}…{}</code></div>",
            ((cert[:24], cert[-24:]) for cert in login.idp_certificates),
        )


# Organization ----------------------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(OrganizationMembersAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "mfa_opt_in", "enterprise_login_state"]
    search_fields = ["name", "slug", "domains__domain"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, WorkspaceInline, EmailDomainInline, EnterpriseLoginInline]
    list_filter = ["mfa_opt_in"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "mfa_opt_in"]}),
        (_("For the customer's identity provider (SAML2)"), {
            "description": _("Give these to the customer's IdP administrator."),
            "fields": ["sp_entity_id", "sp_acs_url", "sp_metadata_url"],
        }),
    ]
    readonly_fields = ["sp_entity_id", "sp_acs_url", "sp_metadata_url"]

    def get_readonly_fields(self, request, obj=None):
        # The slug is part of the SP entity ID and ACS URL that the customer's IdP knows.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and EnterpriseLogin.objects.filter(organization=obj).exists():
            fields.append("slug")
        return fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if "slug" in self.get_readonly_fields(request, obj) else super(
        ).get_prepopulated_fields(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("enterprise_login")

    @admin.display(description=_("Enterprise login"))
    def enterprise_login_state(self, organization):
        login = getattr(organization, "enterprise_login", None)
        if login is None or not login.enabled:
            return pgettext("enterprise login", "off")
        return (pgettext("enterprise login", "mandatory") if login.mandatory
                else pgettext("enterprise login", "optional"))

    @admin.display(description=_("SP entity ID (audience)"))
    def sp_entity_id(self, organization):
        return sp_entity_id(organization) if organization.pk else "—"

    @admin.display(description=_("ACS URL (HTTP-POST)"))
    def sp_acs_url(self, organization):
        return sp_acs_url(organization) if organization.pk else "—"

    @admin.display(description=_("SP metadata URL"))
    def sp_metadata_url(self, organization):
        if not organization.pk:
            return "—"
        url = sp_metadata_url(organization)
        return format_html('<a href="{}">{}</a>', url, url)
