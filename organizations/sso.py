"""Enterprise login: which organization signs an email in, and the two legs of the SAML2 trip.

`sso_signin_start` records the AuthnRequest and gives the IdP URL to send the browser to;
`sso_response_accept` turns the IdP's answer into the member to sign in, or raises SsoRefused.
The signing in itself is accounts.signin.signin_complete, as for every other way in.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from onelogin.saml2.constants import OneLogin_Saml2_Constants

from accounts.domains import domain_to_ascii
from accounts.models import User, normalize_email, token_hash
from core.compiled import compiled_select
from core.errors import ApplicationError
from core.limits import limit_reached
from organizations.models import (
    EmailDomain,
    EnterpriseLogin,
    Organization,
    SamlAuthnRequest,
    UsedSamlAssertion,
)
from organizations.saml import (
    SamlInvalid,
    SamlMalformed,
    authn_request_build,
    saml_response_read,
    saml_response_validate,
)

# How long someone may take at their IdP (including its own MFA) before coming back.
REQUEST_VALID_FOR = timedelta(minutes=30)
# How long an assertion ID is kept when the assertion states no expiry of its own, and how
# long after its expiry otherwise (python3-saml allows that much clock drift).
ASSERTION_ID_KEPT_FOR = timedelta(days=1)
ASSERTION_ID_KEPT_AFTER_EXPIRY = timedelta(seconds=OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT)
# Ties each AuthnRequest to the browser that started it, against login CSRF (an attacker
# making a victim's browser post the attacker's own valid response). The IdP's POST is
# cross-site, so this cookie must be SameSite=None, hence Secure: it is only used when the
# site is served over HTTPS.
BROWSER_COOKIE_NAME = "__Host-backstage_sso"


class SsoRefused(ApplicationError):
    """Enterprise login refused. `code` goes to the security event; `message` to the person."""

    messages = {
        "malformed": _("This sign-in response could not be read, so you are not signed in. "
        "Please start again from Enterprise login."),
        "invalid": _("Your identity provider's answer could not be accepted, so you are not "
        "signed in. Please start again from Enterprise login; if it happens again, contact "
        "your organization admin."),
        "unsolicited": _("Signing in from your identity provider's own portal isn't supported. "
        "Please start from Enterprise login on the Backstage sign-in page."),
        "stale": _("This sign-in attempt has expired or was already used. "
        "Please start again from Enterprise login."),
        "not_enabled": _("Enterprise login isn't turned on for {organization}."),
        "no_email": _("Your identity provider did not tell us your email address, so you are not "
        "signed in. Please contact your organization admin."),
        "other_domain": _("Your identity provider signed you in as {email}, which is not an email "
        "address of {organization}."),
        "not_a_member": _("Your identity provider signed you in as {email}, but {organization} has "
        "no Backstage member with that email. Ask an admin of {organization} to invite you."),
        "other_browser": _("This sign-in was started in another browser, or this browser's "
        "cookies were cleared. Please start again from Enterprise login."),
        "too_many": _("Too many enterprise sign-ins were started from your network. "
        "Please try again in a few minutes."),
        "idp_session_ended": _("Your identity provider says your sign-in there has already "
        "ended, so you are not signed in. Please start again from Enterprise login; if it "
        "happens again, contact your organization admin."),
    }

    def __init__(self, code: str, *, kind: str, status: int = 403, **params):
        super().__init__(self.messages[kind].format(**params), code=code)
        self.status = status


# Which organization ------------------------------------------------------------------------

def email_domain(email: str) -> str:
    """The part after the last "@", as domain_to_ascii spells it; "" if none."""
    _, at, domain = (email or "").strip().rpartition("@")
    return domain_to_ascii(domain) if at else ""


def sso_organization_for_email(email: str) -> Organization | None:
    """The organization whose enterprise login is on for this email's domain (mandatory or not)."""
    domain = email_domain(email)
    if not domain:
        return None
    return Organization.objects.filter(
        domains__domain=domain, enterprise_login__enabled=True
    ).first()


def enterprise_login_mandatory(email: str) -> bool:
    """Whether an organization requires enterprise login for this email's domain.

    Password sign-in, password reset and invitations for such an email go to Enterprise login.
    """
    domain = email_domain(email)
    # Most domains are claimed by no organization: a plain look-up, without the joins, settles
    # those. Every password sign-in asks, so this is worth the second query for the others.
    if not domain or _domain_claimed.first(domain=domain) is None:
        return False
    return _domain_mandatory.first(domain=domain) is not None


# enterprise_login_mandatory's two exists(), built once per connection (core.compiled): the
# ORM took ten times longer to build each than the database took to answer it.
_domain_claimed = compiled_select(
    lambda domain: EmailDomain.objects.filter(domain=domain).values_list("pk")[:1], domain=str
)
_domain_mandatory = compiled_select(
    lambda domain: EmailDomain.objects.filter(
        domain=domain,
        organization__enterprise_login__enabled=True,
        organization__enterprise_login__mandatory=True,
    ).values_list("pk")[:1],
    domain=str,
)


# The browser that signs in ---------------------------------------------------------------

def sso_browser_token(request: HttpRequest) -> str | None:
    """This browser's enterprise-login token (kept, so that two tabs can sign in at once),
    or a new one; None when the site is not served over HTTPS and no cookie can carry it."""
    if urlsplit(settings.SITE_URL).scheme != "https":
        return None
    token = request.COOKIES.get(BROWSER_COOKIE_NAME, "")
    return token if 32 <= len(token) <= 64 else secrets.token_urlsafe(32)


def sso_browser_cookie_set(response: HttpResponse, token: str | None) -> None:
    if token:
        response.set_cookie(
            BROWSER_COOKIE_NAME, token, max_age=int(REQUEST_VALID_FOR.total_seconds()),
            path="/", secure=True, httponly=True, samesite="None",
        )


# Going to the IdP --------------------------------------------------------------------------

@transaction.atomic
def sso_signin_start(*, organization: Organization, next_url: str = "",
                     browser_token: str | None = None, ip: str | None = None) -> str:
    """Record a new AuthnRequest for `organization` and return the IdP URL to redirect to.

    `next_url` must already be a safe local URL; it is checked again on the way back.
    `browser_token` (see sso_browser_token) binds the request to this browser. Anybody may
    start, so the starts of one client `ip` are limited (LIMITS["SSO_STARTS_PER_IP"], SsoRefused):
    otherwise the table could be filled at will.
    """
    now = timezone.now()
    SamlAuthnRequest.objects.filter(created_at__lt=now - REQUEST_VALID_FOR).delete()
    if ip and limit_reached(
        "SSO_STARTS_PER_IP", SamlAuthnRequest.objects.filter(ip_address=ip), now=now
    ):
        raise SsoRefused("too_many", kind="too_many", status=429)
    login = EnterpriseLogin.objects.get(organization=organization, enabled=True)
    request_id, redirect_url = authn_request_build(login)
    SamlAuthnRequest.objects.create(
        request_id=request_id, organization=organization, next_url=next_url, created_at=now,
        browser_hash=token_hash(browser_token) if browser_token else "", ip_address=ip,
    )
    return redirect_url


# Coming back from the IdP ------------------------------------------------------------------

@dataclass(frozen=True)
class SsoSignin:
    user: User
    next_url: str  # as recorded with the AuthnRequest; check it again before redirecting
    # When the IdP wants the Backstage session to end at the latest (SessionNotOnOrAfter).
    session_not_on_or_after: datetime | None


def sso_response_accept(*, organization: Organization, saml_response: str, path: str,
                        browser_token: str | None = None) -> SsoSignin:
    """The member that this SAML Response signs in, the `next` URL recorded for it, and when
    the IdP wants the session to end.

    Deliberately not one transaction: the AuthnRequest is used up and the assertion ID burnt
    even when a later check refuses the response.
    """
    login = EnterpriseLogin.objects.filter(organization=organization, enabled=True).first()
    if login is None or not login.is_ready:
        raise SsoRefused("not_enabled", kind="not_enabled", organization=organization.name)
    try:
        received = saml_response_read(saml_response)
    except SamlMalformed as error:
        raise SsoRefused(error.reason, kind="malformed", status=400) from error
    if received.in_response_to is None:
        # IdP-initiated sign-in cannot be tied to a request of ours, so it could be a replay.
        raise SsoRefused("unsolicited", kind="unsolicited")
    authn_request = _authn_request_use(organization=organization,
                                       request_id=received.in_response_to)
    if authn_request is None:
        raise SsoRefused("unknown_request", kind="stale")
    if authn_request.browser_hash and not (
        browser_token
        and constant_time_compare(token_hash(browser_token), authn_request.browser_hash)
    ):
        raise SsoRefused("other_browser", kind="other_browser")
    try:
        assertion = saml_response_validate(
            login, received=received, request_id=authn_request.request_id, path=path
        )
    except SamlInvalid as error:
        kind = "idp_session_ended" if error.reason == "session_expired" else "invalid"
        raise SsoRefused(error.reason, kind=kind) from error
    if not _assertion_use(organization=organization, assertion_id=assertion.assertion_id,
                          not_on_or_after=assertion.not_on_or_after):
        raise SsoRefused("replayed", kind="stale")
    session_end = assertion.session_not_on_or_after
    # python3-saml refuses a past SessionNotOnOrAfter, except the epoch itself (a zero
    # timestamp reads as "none" there); a session that would end at once is refused here.
    if session_end is not None and session_end <= timezone.now():
        raise SsoRefused("session_expired", kind="idp_session_ended")

    email = _asserted_email(login, assertion)
    if not email:
        raise SsoRefused("no_email", kind="no_email")
    params = {"email": email, "organization": organization.name}
    if not organization.domains.filter(domain=email_domain(email)).exists():
        raise SsoRefused("domain_not_claimed", kind="other_domain", **params)
    user = User.objects.filter(
        email=normalize_email(email), is_active=True, memberships__organization=organization
    ).first()
    if user is None:
        raise SsoRefused("not_a_member", kind="not_a_member", **params)
    return SsoSignin(user=user, next_url=authn_request.next_url,
                     session_not_on_or_after=session_end)


def _authn_request_use(*, organization: Organization, request_id: str) -> SamlAuthnRequest | None:
    """Our outstanding AuthnRequest `request_id` for this organization, used up by this call.

    Deleting by primary key and counting decides the winner when two posts race.
    """
    authn_request = SamlAuthnRequest.objects.filter(
        request_id=request_id,
        organization=organization,
        created_at__gte=timezone.now() - REQUEST_VALID_FOR,
    ).first()
    if authn_request is None:
        return None
    deleted, _ = SamlAuthnRequest.objects.filter(pk=authn_request.pk).delete()
    return authn_request if deleted else None


def _assertion_use(*, organization: Organization, assertion_id: str, not_on_or_after) -> bool:
    """Burn an assertion ID; False when it was seen before (the unique constraint decides)."""
    now = timezone.now()
    UsedSamlAssertion.objects.filter(not_on_or_after__lt=now).delete()
    keep_until = (
        not_on_or_after + ASSERTION_ID_KEPT_AFTER_EXPIRY if not_on_or_after
        else now + ASSERTION_ID_KEPT_FOR
    )
    try:
        with transaction.atomic():
            UsedSamlAssertion.objects.create(
                assertion_id=assertion_id, organization=organization, not_on_or_after=keep_until
            )
    except IntegrityError:
        return False
    return True


def _asserted_email(login: EnterpriseLogin, assertion) -> str:
    if not login.email_attribute:
        return assertion.name_id.strip()
    values = assertion.attributes.get(login.email_attribute) or []
    # One plain value only: several emails, or a nested NameID, are ambiguous.
    if len(values) != 1 or not isinstance(values[0], str):
        return ""
    return values[0].strip()
