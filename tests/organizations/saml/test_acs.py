"""The assertion consumer: real signed SAML Responses from the test IdP, posted as the browser
does. One valid Response signs the member in; every tampered or misdirected one is refused
with a clear page, a recorded reason, and nobody signed in."""

import copy
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from accounts.models import SecurityEvent, User
from accounts.signin import METHOD_KEY
from mfa import sms
from organizations.models import EnterpriseLogin, SamlAuthnRequest, UsedSamlAssertion
from tests.saml_idp import NSMAP, SAML, SAMLP, encode

pytestmark = pytest.mark.django_db


def refusal_reasons() -> list[str]:
    return [
        event.detail["reason"]
        for event in SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_REFUSED)
    ]


def assert_refused(client, response, reason, *, status=403):
    assert response.status_code == status
    assert "You are not signed in" in response.text
    assert refusal_reasons() == [reason]
    assert "_auth_user_id" not in client.session


def edit(xml: bytes, change) -> bytes:
    """Parse, let `change(root)` tamper with the document, serialize: what an attacker does."""
    root = etree.fromstring(xml)
    change(root)
    return etree.tostring(root)


def the(root, path):
    (node,) = root.xpath(path, namespaces=NSMAP)
    return node


# Signing in ----------------------------------------------------------------------------------

def test_valid_response_signs_the_member_in_with_no_sms_step(client, acme_trip, ada):
    response = acme_trip.post()

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(ada.pk)
    assert client.session[METHOD_KEY] == "sso"
    assert sms.outbox == []
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_SIGNIN)
    assert event.subject == ada
    assert event.detail == {"method": "sso"}
    # Fully signed in: the home page, not a second-factor step.
    assert client.get("/").status_code == 200


def test_email_is_matched_without_regard_to_case(client, acme_trip, ada):
    acme_trip.post(email="Ada@ACME.com")

    assert client.session["_auth_user_id"] == str(ada.pk)


def test_email_comes_from_the_configured_attribute(client, acme_trip, acme, ada):
    EnterpriseLogin.objects.filter(organization=acme).update(email_attribute="mail")

    acme_trip.post(email="8f2c-opaque-id", attributes={"mail": ["ada@acme.com"]})

    assert client.session["_auth_user_id"] == str(ada.pk)


def test_missing_email_attribute_is_refused(client, acme_trip, acme, ada):
    EnterpriseLogin.objects.filter(organization=acme).update(email_attribute="mail")

    response = acme_trip.post(email="ada@acme.com", attributes={"name": ["Ada"]})

    assert_refused(client, response, "no_email")


def test_member_goes_to_the_page_they_asked_for(client, acme_trip, ada):
    request_id = acme_trip.start(next_url="/settings/?tab=phone")

    response = acme_trip.post(in_response_to=request_id)

    assert response["Location"] == "/settings/?tab=phone"


def test_off_site_next_is_not_followed(client, acme_trip, ada):
    request_id = acme_trip.start(next_url="https://evil.example/steal")

    response = acme_trip.post(in_response_to=request_id)

    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(ada.pk)


def test_off_site_relay_state_is_not_followed(client, acme_trip, ada):
    response = acme_trip.post(relay_state="https://evil.example/steal")

    assert response["Location"] == "/"


def test_posting_cross_site_needs_no_session_or_csrf_token(acme_trip, ada):
    request_id = acme_trip.start()
    # The IdP's POST comes from another site: no session cookie, no CSRF token.
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(acme_trip.acs_url, {
        "SAMLResponse": encode(acme_trip.response_xml(in_response_to=request_id)),
    })

    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(ada.pk)


def test_a_new_signing_certificate_is_accepted_during_key_rollover(
    client, acme_trip, acme, acme_idp, key_pairs, ada
):
    login = acme.enterprise_login
    login.idp_metadata_xml = acme_idp.metadata_xml(
        certificates=[key_pairs["acme"], key_pairs["globex"]]
    )
    login.full_clean()
    login.save()

    acme_trip.post(signing_keys=key_pairs["globex"])

    assert client.session["_auth_user_id"] == str(ada.pk)


# Signatures ----------------------------------------------------------------------------------

def test_unsigned_response_is_refused(client, acme_trip, ada):
    response = acme_trip.post(sign_assertion=False)

    assert_refused(client, response, "no_signed_assertion")


def test_signed_response_with_unsigned_assertion_is_refused(client, acme_trip, ada):
    response = acme_trip.post(sign_assertion=False, sign_response=True)

    assert_refused(client, response, "no_signed_assertion")


def test_assertion_signed_by_another_key_is_refused(client, acme_trip, key_pairs, ada):
    response = acme_trip.post(signing_keys=key_pairs["attacker"])

    assert_refused(client, response, "invalid_signature")


def test_response_from_another_organizations_idp_is_refused(client, acme_trip, globex_idp, ada):
    xml = globex_idp.response_xml(
        email="ada@acme.com", audience=acme_trip.audience, acs_url=acme_trip.acs_url,
        in_response_to=acme_trip.start(),
    )

    response = acme_trip.post(xml)

    assert_refused(client, response, "wrong_issuer")


def test_sha1_signature_is_refused(client, acme_trip, ada):
    response = acme_trip.post(sha1=True)

    assert_refused(client, response, "deprecated_signature_method")


def test_name_id_changed_after_signing_is_refused(client, acme_trip, make_member, acme):
    make_member(email="boss@acme.com", organization=acme)
    xml = acme_trip.response_xml(email="mallory@acme.com")

    def become_the_boss(root):
        the(root, "//saml:NameID").text = "boss@acme.com"

    response = acme_trip.post(edit(xml, become_the_boss))

    assert_refused(client, response, "invalid_signature")


def test_email_attribute_changed_after_signing_is_refused(client, acme_trip, acme, make_member):
    EnterpriseLogin.objects.filter(organization=acme).update(email_attribute="mail")
    make_member(email="boss@acme.com", organization=acme)
    xml = acme_trip.response_xml(email="u-1", attributes={"mail": ["mallory@acme.com"]})

    def become_the_boss(root):
        the(root, "//saml:AttributeValue").text = "boss@acme.com"

    response = acme_trip.post(edit(xml, become_the_boss))

    assert_refused(client, response, "invalid_signature")


def test_second_unsigned_assertion_is_refused(client, acme_trip, make_member, acme):
    """XML signature wrapping: the signed assertion stays intact, a forged one rides along."""
    make_member(email="boss@acme.com", organization=acme)
    xml = acme_trip.response_xml(email="mallory@acme.com")

    def add_forged_assertion(root):
        signed = the(root, "/samlp:Response/saml:Assertion")
        forged = copy.deepcopy(signed)
        forged.remove(the(forged, "ds:Signature"))
        forged.set("ID", "_forged")
        the(forged, "saml:Subject/saml:NameID").text = "boss@acme.com"
        signed.addprevious(forged)

    response = acme_trip.post(edit(xml, add_forged_assertion))

    assert_refused(client, response, "wrong_number_of_assertions")


def test_signed_assertion_moved_aside_for_a_forged_one_is_refused(
    client, acme_trip, make_member, acme
):
    """XSW: the signed assertion hidden in an Extensions element, a forged one in its place."""
    make_member(email="boss@acme.com", organization=acme)
    xml = acme_trip.response_xml(email="mallory@acme.com")

    def wrap(root):
        signed = the(root, "/samlp:Response/saml:Assertion")
        forged = copy.deepcopy(signed)
        forged.remove(the(forged, "ds:Signature"))
        the(forged, "saml:Subject/saml:NameID").text = "boss@acme.com"
        extensions = etree.Element(f"{{{SAMLP}}}Extensions")
        signed.addprevious(extensions)
        extensions.append(signed)
        root.append(forged)

    response = acme_trip.post(edit(xml, wrap))

    assert_refused(client, response, "wrong_number_of_assertions")


def test_comment_in_name_id_cannot_truncate_the_email(client, acme_trip, make_member, acme):
    """CVE-2017-11427: the signed value is used whole, never the text before the comment."""
    make_member(email="admin@acme.com", organization=acme)
    xml = acme_trip.response_xml(email="admin@acme.com.evil.com")
    injected = xml.replace(b">admin@acme.com.evil.com<", b">admin@acme.com<!---->.evil.com<")
    assert injected != xml

    response = acme_trip.post(injected)

    assert_refused(client, response, "domain_not_claimed")
    assert "admin@acme.com.evil.com" in response.text


def test_comment_in_name_id_keeps_the_exact_signed_value(client, acme_trip, ada):
    xml = acme_trip.response_xml(email="ada@acme.com")

    acme_trip.post(xml.replace(b">ada@acme.com<", b">ada@acme<!---->.com<"))

    assert client.session["_auth_user_id"] == str(ada.pk)


# Validity times ------------------------------------------------------------------------------

def test_expired_assertion_is_refused(client, acme_trip, ada):
    now = datetime.now(UTC)

    response = acme_trip.post(not_before=now - timedelta(minutes=20),
                              not_on_or_after=now - timedelta(minutes=10))

    assert_refused(client, response, "assertion_expired")


def test_assertion_not_yet_valid_is_refused(client, acme_trip, ada):
    response = acme_trip.post(not_before=datetime.now(UTC) + timedelta(minutes=10))

    assert_refused(client, response, "assertion_too_early")


@pytest.fixture
def frozen_saml_clock(monkeypatch):
    """python3-saml reads the time through OneLogin_Saml2_Utils.now: hold it still."""
    instant = int(time.time())
    monkeypatch.setattr(OneLogin_Saml2_Utils, "now", staticmethod(lambda: instant))
    return datetime.fromtimestamp(instant, tz=UTC)


@pytest.mark.parametrize(("skew", "accepted"), [(299, True), (301, False)])
def test_idp_clock_ahead_is_allowed_up_to_five_minutes(
    client, acme_trip, ada, frozen_saml_clock, skew, accepted
):
    idp_now = frozen_saml_clock + timedelta(seconds=skew)

    response = acme_trip.post(now=idp_now, not_before=idp_now)

    if accepted:
        assert client.session["_auth_user_id"] == str(ada.pk)
    else:
        assert_refused(client, response, "assertion_too_early")


@pytest.mark.parametrize(("skew", "accepted"), [(299, True), (301, False)])
def test_conditions_expired_within_five_minutes_are_allowed(
    client, acme_trip, ada, frozen_saml_clock, skew, accepted
):
    now = frozen_saml_clock
    # python3-saml allows the drift on Conditions only; SubjectConfirmationData's own
    # NotOnOrAfter is checked strictly, so it is kept in the future here.
    response = acme_trip.post(
        now=now - timedelta(minutes=10), not_before=now - timedelta(minutes=10),
        not_on_or_after=now - timedelta(seconds=skew),
        confirmation_not_on_or_after=now + timedelta(minutes=1),
    )

    if accepted:
        assert client.session["_auth_user_id"] == str(ada.pk)
    else:
        assert_refused(client, response, "assertion_expired")


def test_expired_subject_confirmation_is_refused(client, acme_trip, ada, frozen_saml_clock):
    response = acme_trip.post(confirmation_not_on_or_after=frozen_saml_clock)

    assert_refused(client, response, "wrong_subjectconfirmation")


# Addressed to us -----------------------------------------------------------------------------

def test_wrong_audience_is_refused(client, acme_trip, ada):
    response = acme_trip.post(audience="https://other-sp.example/metadata")

    assert_refused(client, response, "wrong_audience")


def test_missing_audience_is_refused(client, acme_trip, ada):
    response = acme_trip.post(audience=None)

    assert_refused(client, response, "no_audience")


@pytest.mark.parametrize(("destination", "reason"), [
    ("http://testserver/sso/globex/acs/", "wrong_destination"),
    ("https://evil.example/acs/", "wrong_destination"),
    # python3-saml only checks that the Destination starts with our ACS URL.
    ("http://testserver/sso/acme/acs/../../globex/acs/", "wrong_destination"),
    ("http://testserver/sso/acme/acs/extra", "wrong_destination"),
])
def test_wrong_destination_is_refused(client, acme_trip, ada, destination, reason):
    response = acme_trip.post(destination=destination)

    assert_refused(client, response, reason)


@pytest.mark.parametrize(("recipient", "reason"), [
    ("http://testserver/sso/globex/acs/", "wrong_subjectconfirmation"),
    (None, "wrong_recipient"),
    # python3-saml only checks that the Recipient contains our ACS URL.
    ("https://evil.example/?http://testserver/sso/acme/acs/", "wrong_recipient"),
])
def test_wrong_recipient_is_refused(client, acme_trip, ada, recipient, reason):
    response = acme_trip.post(recipient=recipient)

    assert_refused(client, response, reason)


def test_wrong_issuer_is_refused(client, acme_trip, ada):
    response = acme_trip.post(issuer="https://idp.evil.example/")

    assert_refused(client, response, "wrong_issuer")


# Answers to our requests only ----------------------------------------------------------------

def test_unknown_in_response_to_is_refused(client, acme_trip, ada):
    response = acme_trip.post(in_response_to="ONELOGIN_0123456789abcdef")

    assert_refused(client, response, "unknown_request")


def test_in_response_to_of_another_organizations_request_is_refused(
    client, acme_trip, globex_trip, ada
):
    globex_request = globex_trip.start(email="hank@globex.com")

    response = acme_trip.post(in_response_to=globex_request)

    assert_refused(client, response, "unknown_request")
    assert SamlAuthnRequest.objects.filter(request_id=globex_request).exists()


def test_unsolicited_response_is_refused(client, acme_trip, ada):
    response = acme_trip.post(in_response_to=None)

    assert_refused(client, response, "unsolicited")
    assert "identity provider&#x27;s own portal" in response.text


def test_assertion_answering_another_request_is_refused(client, acme_trip, ada):
    """The envelope's InResponseTo is not signed; the assertion's is, and must agree."""
    first, second = acme_trip.start(), acme_trip.start()
    xml = acme_trip.response_xml(in_response_to=first)

    def retarget(root):
        root.set("InResponseTo", second)

    response = acme_trip.post(edit(xml, retarget))

    assert_refused(client, response, "wrong_subjectconfirmation")


def test_assertion_without_its_own_in_response_to_is_refused(client, acme_trip, ada):
    response = acme_trip.post(confirmation_in_response_to=None)

    assert_refused(client, response, "wrong_in_response_to")


def test_request_older_than_thirty_minutes_is_refused(client, acme_trip, ada):
    request_id = acme_trip.start()
    SamlAuthnRequest.objects.filter(request_id=request_id).update(
        created_at=datetime.now(UTC) - timedelta(minutes=31)
    )

    response = acme_trip.post(in_response_to=request_id)

    assert_refused(client, response, "unknown_request")


def test_the_same_response_posted_twice_signs_in_once(acme_trip, ada):
    xml = acme_trip.response_xml()
    first, second = Client(), Client()

    assert first.post(acme_trip.acs_url, {"SAMLResponse": encode(xml)}).status_code == 302
    response = second.post(acme_trip.acs_url, {"SAMLResponse": encode(xml)})

    assert_refused(second, response, "unknown_request")


def test_the_same_assertion_id_is_accepted_once(acme_trip, ada):
    """Even for a new request: the assertion ID is kept until the assertion expires."""
    first, second = Client(), Client()
    first.post(acme_trip.acs_url, {
        "SAMLResponse": encode(acme_trip.response_xml(assertion_id="_once")),
    })
    assert first.session["_auth_user_id"] == str(ada.pk)

    response = second.post(acme_trip.acs_url, {
        "SAMLResponse": encode(acme_trip.response_xml(assertion_id="_once")),
    })

    assert_refused(second, response, "replayed")
    used = UsedSamlAssertion.objects.get(assertion_id="_once")
    assert used.not_on_or_after > datetime.now(UTC)


# Whose email ---------------------------------------------------------------------------------

def test_email_of_another_organizations_domain_is_refused(
    client, acme_trip, globex, make_member
):
    make_member(email="hank@globex.com", organization=globex)

    response = acme_trip.post(email="hank@globex.com")

    assert_refused(client, response, "domain_not_claimed")
    assert "hank@globex.com, which is not an email address of Acme Events" in response.text


@pytest.mark.parametrize("asserted", ["ada@bücher.example", "Ada@BÜCHER.example"])
def test_asserted_unicode_spelling_of_a_claimed_xn_domain_is_accepted(
    client, acme_trip, buecher_example, make_member, acme, asserted
):
    member = make_member(email="ada@bücher.example", organization=acme)

    acme_trip.post(email=asserted)

    assert client.session["_auth_user_id"] == str(member.pk)


def test_asserted_xn_spelling_of_a_claimed_domain_is_accepted(
    client, acme_trip, buecher_example, make_member, acme
):
    member = make_member(email="ada@xn--bcher-kva.example", organization=acme)

    acme_trip.post(email="ada@XN--BCHER-KVA.example")

    assert client.session["_auth_user_id"] == str(member.pk)


def test_asserted_undecodable_domain_is_refused_not_a_crash(client, acme_trip, buecher_example):
    response = acme_trip.post(email="ada@bü..example")

    assert_refused(client, response, "domain_not_claimed")
    assert "ada@bü..example, which is not an email address of Acme Events" in response.text


def test_email_of_a_non_member_is_refused_and_no_account_is_made(client, acme_trip, acme):
    users = User.objects.count()

    response = acme_trip.post(email="newcomer@acme.com")

    assert_refused(client, response, "not_a_member")
    assert "Ask an admin of Acme Events to invite you" in response.text
    assert User.objects.count() == users


def test_account_that_is_not_in_the_organization_is_refused(
    client, acme_trip, globex, make_member
):
    make_member(email="ada@acme.com", organization=globex)

    response = acme_trip.post(email="ada@acme.com")

    assert_refused(client, response, "not_a_member")


def test_deactivated_member_is_refused(client, acme_trip, ada):
    User.objects.filter(pk=ada.pk).update(is_active=False)

    response = acme_trip.post()

    assert_refused(client, response, "not_a_member")


def test_disabled_enterprise_login_refuses_responses(client, acme_trip, acme, ada):
    xml = acme_trip.response_xml()
    EnterpriseLogin.objects.filter(organization=acme).update(enabled=False)

    response = acme_trip.post(xml)

    assert_refused(client, response, "not_enabled")


def test_unknown_organization_is_not_found(client, ada):
    assert client.post("/sso/nobody/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_acs_accepts_only_post(client, acme):
    assert client.get("/sso/acme/acs/").status_code == 405


# Not SAML at all -----------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol3;</samlp:Response>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&xxe;</samlp:Response>"""


@pytest.mark.parametrize(("saml_response", "reason"), [
    ("%%% this is not base64 %%%", "malformed_base64"),
    ("PHNhbWxwOlJlc3BvbnNl", "malformed_xml"),  # "<samlp:Response", cut short
    (encode(b"<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'>"),
     "malformed_xml"),
    (encode(b"<html><body>Hello</body></html>"), "not_saml"),
    (encode(b'{"SAMLResponse": "json"}'), "malformed_xml"),
    (encode(BILLION_LAUGHS), "dtd_forbidden"),
    (encode(EXTERNAL_ENTITY), "dtd_forbidden"),
    ("", "malformed_xml"),
])
def test_unreadable_input_gets_a_clear_400(client, acme, saml_response, reason):
    response = client.post("/sso/acme/acs/", {"SAMLResponse": saml_response})

    assert_refused(client, response, reason, status=400)
    assert "could not be read" in response.text


def test_missing_saml_response_gets_a_clear_400(client, acme):
    response = client.post("/sso/acme/acs/", {"RelayState": "/"})

    assert_refused(client, response, "no_response", status=400)


def test_oversized_post_gets_a_clear_400(client, acme):
    response = client.post("/sso/acme/acs/", {"SAMLResponse": "A" * (600 * 1024)})

    assert_refused(client, response, "too_large", status=400)


def test_saml_that_fails_the_schema_is_refused(client, acme_trip, ada):
    xml = acme_trip.response_xml()

    def break_schema(root):
        etree.SubElement(root, f"{{{SAML}}}Nonsense")

    response = acme_trip.post(edit(xml, break_schema))

    assert_refused(client, response, "invalid_xml_format")


def test_refusals_record_the_reason_and_never_the_document(client, acme_trip, ada):
    acme_trip.post(email="newcomer@acme.com")

    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED)
    assert event.detail == {"reason": "not_a_member"}
    assert event.organization.slug == "acme"


def test_idp_responses_for_another_sp_are_refused(client, acme_trip, globex_trip, acme_idp, ada):
    """An assertion Acme's IdP issued for Globex's SP, replayed at Acme's ACS."""
    globex_request = globex_trip.start(email="hank@globex.com")
    xml = acme_idp.response_xml(
        email="ada@acme.com", audience=globex_trip.audience, acs_url=globex_trip.acs_url,
        in_response_to=globex_request,
    )

    response = acme_trip.post(xml)

    assert_refused(client, response, "unknown_request")



# The browser that started it -----------------------------------------------------------------

@pytest.fixture
def https_trip(settings, client, acme, acme_idp, make_trip):
    settings.SITE_URL = "https://testserver"
    return make_trip(client, acme, acme_idp)


def test_over_https_the_sign_in_is_tied_to_a_cross_site_cookie(client, https_trip, ada):
    https_trip.start()

    cookie = client.cookies["__Host-backstage_sso"]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "None"  # the IdP's POST is cross-site
    assert cookie["path"] == "/"
    assert not cookie["domain"]
    assert len(cookie.value) >= 43
    assert SamlAuthnRequest.objects.get().browser_hash != cookie.value


def test_response_posted_from_the_browser_that_started_signs_in(client, https_trip, ada):
    response = https_trip.post()

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(ada.pk)


def test_response_posted_from_another_browser_is_refused(https_trip, ada):
    """Login CSRF: an attacker's own valid response, posted by the victim's browser."""
    xml = https_trip.response_xml()
    victim = Client()

    response = victim.post(https_trip.acs_url, {"SAMLResponse": encode(xml)})

    assert_refused(victim, response, "other_browser")
    assert "started in another browser" in response.text


def test_two_tabs_of_one_browser_can_both_sign_in(client, https_trip, ada):
    first, second = https_trip.start(), https_trip.start()

    assert https_trip.post(in_response_to=second).status_code == 302
    assert https_trip.post(in_response_to=first).status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_SIGNIN).count() == 2


def test_body_beyond_djangos_upload_limit_gets_a_clear_400(client, acme):
    response = client.post("/sso/acme/acs/", {"SAMLResponse": "A" * (3 * 1024 * 1024)})

    assert_refused(client, response, "too_large", status=400)


def test_encrypted_assertion_is_refused(client, acme_trip, ada):
    """This SP publishes no encryption key; an EncryptedAssertion cannot be read."""
    xml = acme_trip.response_xml()

    def encrypt(root):
        assertion = the(root, "saml:Assertion")
        encrypted = etree.SubElement(root, f"{{{SAML}}}EncryptedAssertion")
        etree.SubElement(encrypted, "{http://www.w3.org/2001/04/xmlenc#}EncryptedData")
        root.remove(assertion)

    response = acme_trip.post(edit(xml, encrypt))

    assert_refused(client, response, "invalid_response")


@pytest.mark.parametrize(
    ("stored", "asserted"),
    [("ada@bücher.example", "ada@xn--bcher-kva.example"),
     ("ada@xn--bcher-kva.example", "ada@bücher.example")],
)
def test_a_member_is_found_whichever_spelling_the_idp_asserts(
    client, acme_trip, buecher_example, make_member, acme, stored, asserted
):
    member = make_member(email=stored, organization=acme)

    acme_trip.post(email=asserted)

    assert client.session["_auth_user_id"] == str(member.pk)
