"""The Enterprise login page: an email in, off to the IdP of the organization claiming it."""

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from lxml import etree

from organizations.models import EnterpriseLogin, SamlAuthnRequest
from tests.saml_idp import NSMAP

pytestmark = pytest.mark.django_db


def authn_request(location: str):
    encoded = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    return etree.fromstring(zlib.decompress(base64.b64decode(encoded), -15))


def test_sign_in_page_links_to_enterprise_login(client):
    page = client.get("/signin/").text

    assert '<a href="/signin/enterprise/">Enterprise login</a>' in page


def test_page_asks_for_the_email_prefilled_from_the_link(client):
    response = client.get("/signin/enterprise/?email=ada@acme.com")

    assert response.status_code == 200
    assert "<h1>Enterprise login</h1>" in response.text
    assert 'value="ada@acme.com"' in response.text


def test_claimed_domain_is_sent_to_its_idp_with_an_authn_request(client, acme, acme_idp):
    response = client.post("/signin/enterprise/", {"email": "ada@acme.com"})

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://idp.acme.test/saml/sso?SAMLRequest=")
    request = authn_request(location)
    assert request.get("Destination") == acme_idp.sso_url
    assert request.get("AssertionConsumerServiceURL") == "http://testserver/sso/acme/acs/"
    assert request.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    issuer = request.find("saml:Issuer", NSMAP).text
    assert issuer == "http://testserver/sso/acme/metadata/"
    assert request.find("samlp:RequestedAuthnContext", NSMAP) is None
    assert "Signature" not in location
    recorded = SamlAuthnRequest.objects.get()
    assert recorded.request_id == request.get("ID")
    assert recorded.organization == acme


def test_domain_is_matched_without_case_or_trailing_dot(client, acme):
    response = client.post("/signin/enterprise/", {"email": " Ada@ACME.Com. "})

    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.acme.test/saml/sso?")


@pytest.mark.parametrize("email", ["ada@Bücher.example", "ada@xn--bcher-kva.example"])
def test_international_domain_is_matched_in_either_spelling(client, buecher_example, email):
    response = client.post("/signin/enterprise/", {"email": email})

    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.acme.test/saml/sso?")


def test_unclaimed_international_domain_is_named_as_typed(client, acme):
    response = client.post("/signin/enterprise/", {"email": "ada@München.example"})

    assert "Enterprise login isn&#x27;t set up for münchen.example." in response.text


@pytest.mark.parametrize("email", ["ada@bü..example", "ada@\ufffd.example", "ada@💩.example"])
def test_undecodable_domain_gets_a_clear_error(client, buecher_example, email):
    response = client.post("/signin/enterprise/", {"email": email})

    assert response.status_code == 200
    assert "Enter your work email, like name@company.com." in response.text
    assert not SamlAuthnRequest.objects.exists()


def test_next_is_kept_for_the_way_back_when_it_is_local(client, acme):
    client.post("/signin/enterprise/", {"email": "ada@acme.com", "next": "/workspaces/"})
    client.post("/signin/enterprise/?next=https://evil.example/", {"email": "ada@acme.com"})

    assert sorted(SamlAuthnRequest.objects.values_list("next_url", flat=True)) == [
        "", "/workspaces/",
    ]


def test_unclaimed_domain_gets_a_clear_message_and_the_way_back(client, acme):
    response = client.post("/signin/enterprise/", {"email": "ada@example.org"})

    assert response.status_code == 200
    assert ("Enterprise login isn&#x27;t set up for example.org. "
            "Sign in with your email and password instead.") in response.text
    assert 'href="/signin/"' in response.text
    assert not SamlAuthnRequest.objects.exists()


def test_subdomain_of_a_claimed_domain_is_not_claimed(client, acme):
    response = client.post("/signin/enterprise/", {"email": "ada@eu.acme.com"})

    assert "set up for eu.acme.com" in response.text


def test_disabled_enterprise_login_is_not_set_up(client, acme):
    EnterpriseLogin.objects.filter(organization=acme).update(enabled=False)

    response = client.post("/signin/enterprise/", {"email": "ada@acme.com"})

    assert response.status_code == 200
    assert "set up for acme.com" in response.text


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@acme.com", "ada@."])
def test_something_that_is_not_an_email_is_refused(client, acme, email):
    response = client.post("/signin/enterprise/", {"email": email})

    assert response.status_code == 200
    assert 'class="error-summary"' in response.text
    assert not SamlAuthnRequest.objects.exists()


def test_the_form_needs_its_csrf_token(acme):
    response = Client(enforce_csrf_checks=True).post(
        "/signin/enterprise/", {"email": "ada@acme.com"}
    )

    assert response.status_code == 403
    assert not SamlAuthnRequest.objects.exists()


def test_signed_in_person_goes_home(client, ada):
    client.force_login(ada)

    assert client.get("/signin/enterprise/")["Location"] == "/"


def test_whole_trip_signs_in_and_the_request_is_used_up(client, acme_trip, ada):
    request_id = acme_trip.start(next_url="/workspaces/")

    response = acme_trip.post(in_response_to=request_id)

    assert response["Location"] == "/workspaces/"
    assert client.session["_auth_user_id"] == str(ada.pk)
    assert not SamlAuthnRequest.objects.filter(request_id=request_id).exists()


def test_the_form_may_be_sent_on_to_an_https_idp(client):
    """CSP form-action also governs the redirect after the form, to the IdP."""
    policy = client.get("/signin/enterprise/")["Content-Security-Policy"]

    assert "form-action 'self' https:;" in policy + ";"
    assert "frame-ancestors 'none'" in policy


def test_starts_from_one_ip_are_limited_while_unanswered(acme, settings, clock):
    settings.LIMITS = {
        **settings.LIMITS, "SSO_STARTS_PER_IP": {**settings.LIMITS["SSO_STARTS_PER_IP"], "max": 2}
    }
    office, elsewhere = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        assert office.post("/signin/enterprise/", {"email": "ada@acme.com"}).status_code == 302

    refused = office.post("/signin/enterprise/", {"email": "ada@acme.com"})
    assert refused.status_code == 429
    assert "Too many enterprise sign-ins were started from your network." in refused.text
    assert SamlAuthnRequest.objects.count() == 2
    assert elsewhere.post("/signin/enterprise/", {"email": "ada@acme.com"}).status_code == 302

    # Unanswered requests are dropped after 30 minutes, and with them the count.
    clock.advance(minutes=31)
    assert office.post("/signin/enterprise/", {"email": "ada@acme.com"}).status_code == 302
    assert SamlAuthnRequest.objects.filter(ip_address="198.51.100.7").count() == 1
