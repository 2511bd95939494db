"""Enterprise login (SAML2) pages: the email form, the assertion consumer, the SP metadata,
and the organization admins' read-only summary."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.events import security_event_record
from accounts.models import SecurityEvent
from accounts.reauth import reauthenticated_at_record, reauthentication_organization
from accounts.session_lifetime import session_lifetime_end_by
from accounts.signin import Method, signin_complete
from core.http import client_ip, client_of, redirect_to_next, safe_next_url
from organizations.forms import EnterpriseLoginForm
from organizations.models import EnterpriseLogin, Membership, Organization
from organizations.saml import (
    RESPONSE_MAX_CHARS,
    sp_acs_url,
    sp_entity_id,
    sp_metadata_url,
    sp_metadata_xml,
)
from organizations.sso import (
    BROWSER_COOKIE_NAME,
    SsoRefused,
    sso_browser_cookie_set,
    sso_browser_token,
    sso_organization_for_email,
    sso_response_accept,
    sso_signin_start,
)

# Browsers apply form-action to the redirects that follow a form submission too, and this
# form's answer redirects to the organization's IdP, which only the email tells.
ENTERPRISE_LOGIN_CSP = {
    **settings.SECURE_CSP,
    "form-action": [CSP.SELF, "https:", *(["http:"] if settings.DEBUG else [])],
}


@login_not_required
@csp_override(ENTERPRISE_LOGIN_CSP)
def enterprise_login(request):
    next_url = safe_next_url(request)
    if request.user.is_authenticated:
        return redirect_to_next(next_url)
    form = EnterpriseLoginForm(
        data=request.POST or None, initial={"email": request.GET.get("email", "")[:254]}
    )
    if request.method == "POST" and form.is_valid():
        organization = sso_organization_for_email(form.cleaned_data["email"])
        if organization is not None:
            browser_token = sso_browser_token(request)
            try:
                idp_url = sso_signin_start(
                    organization=organization, next_url=next_url, browser_token=browser_token,
                    ip=client_ip(request) or None,
                )
            except SsoRefused as refusal:
                form.add_error(None, refusal.message)
                return render(request, "organizations/enterprise_login.html",
                              {"form": form, "next": next_url}, status=refusal.status)
            response = redirect(idp_url)
            sso_browser_cookie_set(response, browser_token)
            return response
        form.add_not_set_up_error()
    return render(request, "organizations/enterprise_login.html",
                  {"form": form, "next": next_url})


@require_GET
def enterprise_login_confirm(request):
    """Confirm your password, for a member signed in through enterprise login: through their
    organization's identity provider again, then back to `next` (accounts.reauth)."""
    organization = reauthentication_organization(request)
    if organization is None:
        raise Http404
    browser_token = sso_browser_token(request)
    try:
        idp_url = sso_signin_start(
            organization=organization, next_url=safe_next_url(request),
            browser_token=browser_token, ip=client_ip(request) or None,
        )
    except SsoRefused as refusal:
        return render(request, "organizations/sso_refused.html",
                      {"message": refusal.message, "organization": organization},
                      status=refusal.status)
    response = redirect(idp_url)
    sso_browser_cookie_set(response, browser_token)
    return response


# The IdP posts here cross-site, so there is no CSRF token (and no SameSite=Lax session
# cookie); a signed assertion answering a single-use request of ours, started in this same
# browser (organizations.sso.BROWSER_COOKIE_NAME), stands in for it.
@csrf_exempt
@login_not_required
@require_POST
def sso_acs(request, slug):
    organization = get_object_or_404(Organization, slug=slug)
    try:
        signin = sso_response_accept(
            organization=organization, saml_response=_posted_saml_response(request),
            path=request.path, browser_token=request.COOKIES.get(BROWSER_COOKIE_NAME),
        )
    except SsoRefused as refusal:
        security_event_record(
            kind=SecurityEvent.Kind.SSO_REFUSED, **client_of(request),
            actor=request.user if request.user.is_authenticated else None,
            organization=organization,
            reason=refusal.code,
        )
        return render(request, "organizations/sso_refused.html",
                      {"message": refusal.message, "organization": organization},
                      status=refusal.status)
    signin_complete(request, signin.user, method=Method.SSO, organization=organization)
    reauthenticated_at_record(request)
    # Only now: signing in starts a new session, without the previous sign-in's limits.
    session_lifetime_end_by(request.session, signin.session_not_on_or_after)
    return redirect_to_next(safe_next_url(request, signin.next_url))


def _posted_saml_response(request) -> str:
    """The one SAMLResponse field, refused unread when the body is oversized."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Percent-encoding makes the body somewhat larger than the field itself.
    if length > 2 * RESPONSE_MAX_CHARS:
        raise SsoRefused("too_large", kind="malformed", status=400)
    values = request.POST.getlist("SAMLResponse")
    if len(values) != 1:
        raise SsoRefused("no_response", kind="malformed", status=400)
    return values[0]


@login_not_required
@require_GET
def sso_metadata(request, slug):
    organization = get_object_or_404(Organization, slug=slug)
    return HttpResponse(sp_metadata_xml(organization), content_type="application/xml")


def enterprise_login_settings(request, slug):
    """What an organization admin gives their IdP; changes are support staff's (Django admin)."""
    organization = get_object_or_404(
        Organization.objects.filter(
            memberships__user=request.user, memberships__role=Membership.Role.ADMIN
        ),
        slug=slug,
    )
    return render(request, "organizations/enterprise_login_settings.html", {
        "organization": organization,
        "login": EnterpriseLogin.objects.filter(organization=organization).first(),
        "domains": organization.domains.all(),
        "sp_entity_id": sp_entity_id(organization),
        "sp_acs_url": sp_acs_url(organization),
        "sp_metadata_url": sp_metadata_url(organization),
    })
