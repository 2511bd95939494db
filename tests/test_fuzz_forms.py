"""Generated hostile input, posted to every form of the product (issue 10).

Text with control characters, NUL bytes and lone surrogates (sent as the raw bytes that a
client could send), long international domains, values of about 1 MB, and fields sent
twice or as arrays (`code[]`) go to each form, signed in as the form needs. Whatever comes
back is never a server error, nothing stored holds a NUL (PostgreSQL refuses it in text),
and a refused form (shown again, a 4xx, or an error message) changed none of the watched
rows. Django admin's own login is not ours (ours replaces it); its invitation form is.

FUZZ_EXAMPLES sets the examples per form (25): CI runs this on SQLite and PostgreSQL.
Hypothesis keeps no example database (database=None), so nothing lands in the tree.
"""

import json
import os
import secrets
from datetime import timedelta
from urllib.parse import quote_from_bytes

import pytest
from axes.models import AccessAttempt
from django.contrib.messages import ERROR, get_messages
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.invitations import invitation_create
from accounts.models import Invitation, PasswordResetRequest, SecurityEvent, User
from accounts.password_reset import password_reset_url
from mfa.models import (
    PasskeyDevice,
    RecoveryCode,
    RecoveryCodeDevice,
    RememberedBrowser,
    SmsDevice,
)
from mfa.recovery import recovery_codes_create
from organizations.models import (
    EmailDomain,
    EnterpriseLogin,
    Membership,
    Organization,
    SamlAuthnRequest,
)
from tests.conftest import PASSWORD
from tests.helpers import signed_in
from tests.saml_idp import TestIdentityProvider, key_pair_generate

fuzz = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
    ],
)

# Hand-picked values that broke something once, or are next to a limit ---------------------

LONG_DOMAIN = ".".join(["日本語漢字表記例題試験"] * 5) + ".example"
SPECIAL = [
    "", " ", "\x00", "a\x00b", "\r\n", "\t", "\u202e", "\u200b", "\ufeff", "\ud800", "\udfff",
    "foo", "home", "admin:index", "accounts:signin", "/", "//evil.test/", "/\\evil.test",
    "https://evil.test/", "http://testserver/settings/", "/\x00", "javascript:alert(1)",
    "ada@example.com", " ADA@Example.COM ", "grace@example.com\u202e", "grace@ex\u200bample.com",
    "a" * 60 + "@" + LONG_DOMAIN, "grace@" + "ü" * 64 + ".example", "grace@bücher.example",
    "@", "a@", "@b.c", "a@b@c.d", "x" * 1_000_000, "ü" * 350_000, "\x00" * 1000,
    "000000", "123456", "1234567", "-1", "99999999999999999999", "1e9", "+41 79 123 45 67",
    "+41791234567", "CH", "ZZ", "admin", "member", "owner", "on", "true", "1", "None", "null",
    "<script>alert(1)</script>", "' OR 1=1 --", "%00", "%", "&", "=",
]
# Every character, surrogates and control characters included.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
TEXT = st.text(ANY_CHARACTER, max_size=300)
# Labels that Django's email check lets through, mostly: letters of any script, with the
# invisible, combining and bidirectional characters that IDNA 2008 may refuse.
LABEL = st.text(
    st.sampled_from("abzüßç日本ж-\u202e\u2066\u200e\u200b\u200d\u00ad\u0301\ue000\ufff9"),
    min_size=1, max_size=70,
)
EMAIL = st.builds(
    lambda local, labels, tld: local + "@" + ".".join([*labels, tld]),
    st.text(st.sampled_from("abz.+_-"), min_size=1, max_size=70),
    st.lists(LABEL, min_size=1, max_size=5),
    st.sampled_from(["com", "example", "テスト", "xn--zckzah", "c\u202e"]),
)
VALUE = st.one_of(st.sampled_from(SPECIAL), TEXT, EMAIL, st.integers().map(str))
# Fields that a form refuses unless they hold one of a few values get those often, so that
# the other fields' input gets past them.
FIELD_VALUES = {
    "email": st.one_of(EMAIL, EMAIL, VALUE),
    "role": st.one_of(st.sampled_from(["admin", "member"]), VALUE),
    "country": st.one_of(st.sampled_from(["CH", "US", ""]), VALUE),
    "accept_privacy": st.one_of(st.just("on"), VALUE),
}


@st.composite
def form_data(draw, names: list[str]) -> list[tuple[str, str]]:
    """The fields of a form: each absent, once or repeated, sometimes as `name[]`, and
    sometimes a field the form does not know."""
    pairs = []
    for name in names:
        for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2, 3]))):
            value = draw(FIELD_VALUES.get(name, VALUE))
            pairs.append((name + draw(st.sampled_from(["", "", "", "[]"])), value))
    if draw(st.booleans()):
        name = st.one_of(st.sampled_from(names), TEXT) if names else TEXT
        pairs.append((draw(name), draw(VALUE)))
    return pairs


def encoded(pairs: list[tuple[str, str]]) -> str:
    """application/x-www-form-urlencoded as a client sends it; a lone surrogate goes as the
    bytes UTF-8 would give it (surrogatepass), which are no valid UTF-8."""

    def part(text: str) -> str:
        return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{part(name)}={part(value)}" for name, value in pairs)


# What a refusal must leave as it was -----------------------------------------------------

WATCHED = {
    User: ["email", "full_name", "password", "security_stamp", "is_active", "is_staff"],
    Invitation: ["email", "organization_id", "role", "token_hash", "accepted_at", "revoked_at"],
    Membership: ["user_id", "organization_id", "role"],
    # Not the code's digest nor the throttling counters: a wrong code counts, as it should.
    SmsDevice: ["user_id", "number", "pending_number", "confirmed", "sms_fallback"],
    TOTPDevice: ["user_id", "key", "confirmed"],
    PasskeyDevice: ["user_id", "credential_id", "public_key", "sign_count", "last_used_at"],
    RecoveryCodeDevice: ["user_id", "confirmed"],
    RecoveryCode: ["device_id", "digest"],
    RememberedBrowser: ["user_id", "token_hash", "expires_at"],
    PasswordResetRequest: ["email", "ip_address"],
    Organization: ["name", "slug"],
    EmailDomain: ["organization_id", "domain"],
    SamlAuthnRequest: ["request_id", "next_url"],
}
# Where text from a request may be stored: none of it may hold a NUL.
STORED_TEXT = {
    **WATCHED,
    SecurityEvent: ["user_agent", "detail"],
    AccessAttempt: ["username", "user_agent", "get_data", "post_data", "path_info"],
}


def snapshot() -> dict:
    return {
        model.__name__: sorted(map(repr, model.objects.order_by("pk").values_list("pk", *fields)))
        for model, fields in WATCHED.items()
    }


def assert_no_nul_stored():
    for model, fields in STORED_TEXT.items():
        for row in model.objects.values_list(*fields):
            assert "\x00" not in json.dumps(row, default=str, ensure_ascii=False), (model, row)


def refused(response) -> bool:
    """The form said no: shown again, answered 4xx, or an error message for the next page."""
    if response.status_code == 200 or response.status_code >= 400:
        return True
    # Only the messages of this request: redirects are not followed here, so the messages of
    # earlier ones are still waiting in the storage.
    added = get_messages(response.wsgi_request)._queued_messages
    return any(message.level >= ERROR for message in added)


def send(client: Client, path: str, pairs: list[tuple[str, str]], *, method: str = "post"):
    before = snapshot()
    if method == "post":
        response = client.post(
            path, encoded(pairs), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.get(f"{path}?{encoded(pairs)}")
    assert response.status_code < 500, (path, pairs)
    assert_no_nul_stored()
    if refused(response):
        assert snapshot() == before, (path, pairs, response.status_code)
    return response


# The forms -----------------------------------------------------------------------------


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme Events", slug="acme-events")


@pytest.fixture
def browser():
    # Exceptions come back as 500s to assert on, each with the input that caused it.
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(("path", "names"), [
    ("/signin/", ["email", "password", "next"]),
    ("/password-reset/", ["email"]),
    ("/signin/enterprise/", ["email", "next"]),
    ("/sso/acme-events/acs/", ["SAMLResponse", "RelayState"]),
    ("/sms/status/", ["MessageSid", "MessageStatus", "ErrorCode"]),
    ("/signout/", ["next"]),
])
@pytest.mark.parametrize("method", ["post", "get"])
def test_signed_out_forms(browser, make_member, acme, path, names, method):
    make_member("ada@example.com", organization=acme)
    EmailDomain.objects.create(organization=acme, domain="example.com")

    @fuzz
    @given(pairs=form_data(names))
    def check(pairs):
        send(browser, path, pairs, method=method)

    check()


@pytest.mark.parametrize(("member", "path", "names"), [
    ("new", "/signin/phone/", ["country", "number"]),
    ("enrolled", "/signin/code/", ["code", "remember"]),
    ("enrolled", "/signin/code/resend/", ["code"]),
    ("app", "/signin/app/", ["code", "remember"]),
    ("app", "/signin/app/sms/", ["code"]),
])
def test_second_factor_steps(browser, make_member, enrolled_member, add_authenticator, member,
                             path, names):
    user = (make_member if member == "new" else enrolled_member)()
    if member == "app":
        add_authenticator(user)
    assert browser.post("/signin/", {"email": user.email, "password": PASSWORD}).status_code == 302

    @fuzz
    @given(pairs=form_data(names))
    def check(pairs):
        send(browser, path, pairs)

    check()


def test_invitation_accept(browser, acme):
    invitation = invitation_create(email="grace@example.com", organization=acme)
    browser.get(f"/invitation/{invitation.token}/")

    @fuzz
    @given(pairs=form_data(["full_name", "password1", "password2", "accept_privacy"]))
    def check(pairs):
        send(browser, "/invitation/accept/", pairs)

    check()


def test_password_reset_confirm(browser, make_user):
    user = make_user()
    set_password = browser.get(password_reset_url(user))["Location"]

    @fuzz
    @given(pairs=form_data(["password1", "password2"]))
    def check(pairs):
        send(browser, set_password, pairs)

    check()


@fuzz
@given(parts=st.lists(TEXT.filter(bool), min_size=2, max_size=2))
def test_links_with_hostile_tokens(db, parts):
    browser = Client(raise_request_exception=False)
    uid, token = (quote_from_bytes(part.encode("utf-8", "surrogatepass"), safe="")
                  for part in parts)
    for path in (f"/password-reset/{uid}/{token}/", f"/invitation/{token}/"):
        assert browser.get(path).status_code < 500, path


@pytest.mark.parametrize(("path", "names"), [
    ("/settings/name/", ["full_name"]),
    ("/settings/password/", ["password", "password1", "password2"]),
    ("/settings/phone/", ["country", "number"]),
    ("/settings/phone/code/", ["code"]),
    ("/settings/phone/code/resend/", ["code"]),
    ("/settings/authenticator/", ["code"]),
    ("/settings/authenticator/start/", ["code"]),
])
def test_personal_settings_forms(enrolled_member, path, names):
    user = enrolled_member()
    browser = signed_in(user)
    browser.raise_request_exception = False
    if path.startswith("/settings/phone/code/"):
        browser.post("/settings/phone/", {"number": "+41791112233"})
    if path == "/settings/authenticator/":
        browser.post("/settings/authenticator/start/")

    @fuzz
    @given(pairs=form_data(names))
    def check(pairs):
        send(browser, path, pairs)

    check()


@pytest.mark.parametrize(("action", "names"), [
    ("search", ["q", "page"]),
    ("invite", ["email", "role"]),
    ("role", ["role"]),
])
def test_members_page_forms(make_member, enrolled_member, acme, action, names):
    grace = make_member("grace@acme.test", organization=acme, role=Membership.Role.ADMIN)
    ada = enrolled_member("ada@acme.test", organization=acme)
    browser = signed_in(grace)
    browser.raise_request_exception = False
    members = "/organizations/acme-events/members/"
    path, method = {
        "search": (members, "get"),
        "invite": (members + "invite/", "post"),
        "role": (f"{members}{ada.pk}/role/", "post"),
    }[action]

    @fuzz
    @given(pairs=form_data(names))
    def check(pairs):
        send(browser, path, pairs, method=method)

    check()


def test_members_page_ids(make_member, acme):
    grace = make_member("grace@acme.test", organization=acme, role=Membership.Role.ADMIN)
    browser = signed_in(grace)
    browser.raise_request_exception = False

    @fuzz
    @given(member_id=st.integers(min_value=0, max_value=10**20).filter(lambda i: i != grace.pk),
           action=st.sampled_from(["role/", "remove/", "phone/remove/"]),
           pairs=form_data(["role"]))
    def check(member_id, action, pairs):
        send(browser, f"/organizations/acme-events/members/{member_id}/{action}", pairs)

    check()


def test_admin_invitation_form(make_user, acme):
    browser = signed_in(make_user("support@backstage.test", is_staff=True, is_superuser=True))
    browser.raise_request_exception = False
    organization = str(acme.pk)

    @fuzz
    @given(pairs=form_data(["email", "organization", "role"]),
           with_organization=st.booleans())
    def check(pairs, with_organization):
        if with_organization:
            pairs = [*pairs, ("organization", organization)]
        send(browser, "/admin/accounts/invitation/add/", pairs)

    check()


def test_any_next_through_a_whole_sign_in(enrolled_member, add_authenticator, app_code, clock):
    """`next` only matters once the sign-in is done: whatever it is, the member who gave the
    right password and code is signed in, and sent to this site or home."""
    user = enrolled_member()
    device = add_authenticator(user)

    @fuzz
    @given(next_values=st.lists(VALUE, min_size=1, max_size=2))
    def check(next_values):
        clock.advance(seconds=31)  # a fresh code from the app each time
        browser = Client(raise_request_exception=False)
        pairs = [("email", user.email), ("password", PASSWORD)]
        pairs += [("next", value) for value in next_values]
        assert send(browser, "/signin/", pairs)["Location"] == "/signin/app/"
        response = send(browser, "/signin/app/", [("code", app_code(device))])
        assert response.status_code == 302, response.content
        assert "_auth_user_id" in browser.session
        assert response["Location"].startswith(("/", "http://testserver/"))
        assert not response["Location"].startswith("//")

    check()


# Forms that landed after the ones above ---------------------------------------------------

# The forms below are many and small; fewer examples each keep the file within its minute.
fuzz_small = settings(fuzz, max_examples=max(1, fuzz.max_examples * 3 // 5))
# A row's id, or none: past the database's 64-bit integer too.
ID = st.one_of(st.integers(min_value=0, max_value=10**20), st.just(2**63))


@pytest.mark.parametrize("method", ["post", "get"])
def test_confirm_your_password(enrolled_member, method):
    user = enrolled_member()
    browser = signed_in(user)  # the password given longer ago than a security change accepts
    browser.raise_request_exception = False

    @fuzz_small
    @given(pairs=form_data(["password", "next"]))
    def check(pairs):
        send(browser, "/settings/confirm-password/", pairs, method=method)

    check()


def test_enterprise_login_confirmation(make_member, acme, tmp_path):
    idp = TestIdentityProvider(
        entity_id="https://idp.acme.test/saml/metadata", sso_url="https://idp.acme.test/sso",
        keys=key_pair_generate(tmp_path, "acme"),
    )
    EmailDomain.objects.create(organization=acme, domain="acme.test")
    EnterpriseLogin.objects.create(organization=acme, idp_metadata_xml=idp.metadata_xml())
    browser = signed_in(make_member("ada@acme.test", organization=acme), method="sso")
    browser.raise_request_exception = False

    @fuzz_small
    @given(pairs=form_data(["next"]), method=st.sampled_from(["get", "post"]))
    def check(pairs, method):
        send(browser, "/signin/enterprise/confirm/", pairs, method=method)

    check()


@pytest.mark.parametrize(("via", "path", "names"), [
    ("totp", "/signin/step-up/", ["code", "next"]),
    ("sms", "/signin/step-up/", ["code", "next"]),
    ("sms", "/signin/step-up/sms/", ["next"]),
    ("passkey", "/signin/step-up/", ["credential", "next"]),
    ("recovery", "/signin/step-up/", ["code", "next"]),
])
def test_admin_step_up(enrolled_member, add_authenticator, via, path, names):
    """Staff on a remembered browser, asked for a code (or their passkey, or one of their
    recovery codes) before Django admin."""
    staff = enrolled_member("support@backstage.test", is_staff=True, is_superuser=True)
    if via == "totp":
        add_authenticator(staff)
    if via == "passkey":
        PasskeyDevice.objects.create(
            user=staff, name="Phone", credential_id="AAAA", public_key=b"", user_handle="AAAA"
        )
    browser = signed_in(staff, method="remembered")
    browser.raise_request_exception = False
    if via == "sms":
        assert browser.post("/signin/step-up/sms/").status_code == 302  # the code is sent
    if via == "recovery":
        recovery_codes_create(user=staff, ip=None, user_agent="")
        assert browser.get("/signin/step-up/?via=recovery").status_code == 200  # chosen

    @fuzz_small
    @given(pairs=form_data(names))
    def check(pairs):
        if via == "passkey":
            # A challenge for each answer, so that the answer itself is read and checked.
            assert browser.post("/signin/step-up/passkey/options/").status_code == 200
        send(browser, path, pairs)

    check()


def test_recovery_code_sign_in(browser, enrolled_member):
    user = enrolled_member()
    recovery_codes_create(user=user, ip=None, user_agent="")
    assert browser.post("/signin/", {"email": user.email, "password": PASSWORD}).status_code == 302

    @fuzz_small
    @given(pairs=form_data(["code"]))
    def check(pairs):
        send(browser, "/signin/recovery/", pairs)

    check()


def _another_session(user):
    signed_in(user)


def _a_remembered_browser(user):
    RememberedBrowser.objects.create(
        user=user, token_hash=secrets.token_hex(32), expires_at=timezone.now() + timedelta(days=1)
    )


@pytest.mark.parametrize(("path", "names", "before_each"), [
    ("/settings/phone/fallback/", ["sms_fallback"], None),
    ("/settings/authenticator/remove/", [], "authenticator"),
    ("/settings/recovery-codes/create/", [], None),
    ("/settings/recovery-codes/download/", ["code"], None),
    ("/settings/sessions/end-others/", [], _another_session),
    ("/settings/browsers/forget/", [], _a_remembered_browser),
])
def test_security_settings_forms(enrolled_member, add_authenticator, path, names, before_each):
    """Signed in with the password just given, so that the change itself is what is tried;
    what each form changes is there again before each example."""
    user = enrolled_member()
    add_authenticator(user)  # so that the text-message fallback may be turned off
    browser = signed_in(user, password_just_given=True)
    browser.raise_request_exception = False

    @fuzz_small
    @given(pairs=form_data(names))
    def check(pairs):
        if before_each == "authenticator":
            if not TOTPDevice.objects.filter(user=user).exists():
                add_authenticator(user)
        elif before_each is not None:
            before_each(user)
        send(browser, path, pairs)

    check()


def test_forgetting_one_browser_ids(enrolled_member, make_user):
    user = enrolled_member()
    browser = signed_in(user)
    browser.raise_request_exception = False
    _a_remembered_browser(make_user("grace@example.com"))  # somebody else's: not found

    @fuzz_small
    @given(browser_id=st.one_of(st.none(), ID),
           pairs=form_data([]))
    def check(browser_id, pairs):
        _a_remembered_browser(user)
        if browser_id is None:  # the member's own, just remembered
            browser_id = RememberedBrowser.objects.filter(user=user).latest("pk").pk
        send(browser, f"/settings/browsers/{browser_id}/forget/", pairs)

    check()


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_members_page_invitations(make_member, make_organization, acme, action):
    grace = make_member("grace@acme.test", organization=acme, role=Membership.Role.ADMIN)
    globex = make_organization("Globex", slug="globex")
    elsewhere = invitation_create(email="linus@example.com", organization=globex, limited=False)
    browser = signed_in(grace)
    browser.raise_request_exception = False

    @fuzz_small
    @given(target=st.one_of(st.none(), st.just(elsewhere.pk), ID),
           pairs=form_data([]))
    def check(target, pairs):
        if target is None:  # Acme's pending invitation, made again once revoked
            invitation = Invitation.objects.pending().filter(organization=acme).first()
            target = (invitation or invitation_create(
                email="ada@example.com", organization=acme, limited=False
            )).pk
        send(browser, f"/organizations/acme-events/invitations/{target}/{action}/", pairs)

    check()


def test_admin_user_change_form(make_user, enrolled_member):
    """Support staff editing a member in Django admin: the email among the fields (10.1a)."""
    browser = signed_in(make_user("support@backstage.test", is_staff=True, is_superuser=True))
    browser.raise_request_exception = False
    ada = enrolled_member()
    make_user("grace@example.com")  # an address that is taken
    path = f"/admin/accounts/user/{ada.pk}/change/"

    @fuzz_small
    @given(pairs=form_data(["email", "full_name", "is_active", "is_staff"]),
           with_name=st.booleans())
    def check(pairs, with_name):
        if with_name:  # past the required name, to the email's own checks
            pairs = [("full_name", "Ada Lovelace"), *pairs]
        send(browser, path, pairs)

    check()
