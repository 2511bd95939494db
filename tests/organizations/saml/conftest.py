"""Enterprise login (SAML) test fixtures: test IdPs with their keys, organizations that use
them, and `SsoTrip`, a browser going to the IdP and back. The IdP itself is tests/saml_idp.py,
which the browser tests share."""

import base64
import zlib
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from organizations.models import EmailDomain, EnterpriseLogin, Membership
from organizations.saml import sp_acs_url, sp_entity_id
from tests.saml_idp import (
    NSMAP,
    TestIdentityProvider,
    encode,
    key_pair_generate,
    saml_time,
    sign,
)


@pytest.fixture(scope="session")
def key_pairs(tmp_path_factory):
    """Made once per test run: RSA key generation is the slow part."""
    directory = tmp_path_factory.mktemp("saml-keys")
    return {name: key_pair_generate(directory, name) for name in ("acme", "globex", "attacker")}


@pytest.fixture
def acme_idp(key_pairs):
    return TestIdentityProvider(
        entity_id="https://idp.acme.test/saml/metadata",
        sso_url="https://idp.acme.test/saml/sso",
        keys=key_pairs["acme"],
    )


@pytest.fixture
def globex_idp(key_pairs):
    return TestIdentityProvider(
        entity_id="https://login.globex.test/idp",
        sso_url="https://login.globex.test/idp/sso",
        keys=key_pairs["globex"],
    )


@pytest.fixture
def make_enterprise_login():
    def make(organization, idp, *, domains=(), enabled=True, mandatory=False, email_attribute=""):
        for domain in domains:
            EmailDomain.objects.create(organization=organization, domain=domain)
        login = EnterpriseLogin(
            organization=organization, enabled=enabled, mandatory=mandatory,
            idp_metadata_xml=idp.metadata_xml(), email_attribute=email_attribute,
        )
        login.full_clean()
        login.save()
        return login

    return make


@pytest.fixture
def acme(make_organization, make_enterprise_login, acme_idp):
    organization = make_organization("Acme Events", slug="acme")
    make_enterprise_login(organization, acme_idp, domains=["acme.com"])
    return organization


@pytest.fixture
def globex(make_organization, make_enterprise_login, globex_idp):
    organization = make_organization("Globex", slug="globex")
    make_enterprise_login(organization, globex_idp, domains=["globex.com"])
    return organization


@pytest.fixture
def buecher_example(acme):
    """Acme also claims bücher.example, stored as services store it: in its xn-- form."""
    EmailDomain.objects.create(organization=acme, domain="xn--bcher-kva.example")
    return "xn--bcher-kva.example"


@pytest.fixture
def ada(make_member, acme):
    """A member of Acme, in Acme's claimed domain."""
    return make_member(email="ada@acme.com", organization=acme)


def with_session_not_on_or_after(idp, moment: datetime | str, **fields) -> bytes:
    """idp.response_xml, with a SessionNotOnOrAfter (a moment, or any text) on the
    AuthnStatement, and the assertion signed after it was added, as an IdP does."""
    root = etree.fromstring(idp.response_xml(sign_assertion=False, **fields))
    statement = root.find("saml:Assertion/saml:AuthnStatement", NSMAP)
    statement.set("SessionNotOnOrAfter", moment if isinstance(moment, str) else saml_time(moment))
    sign(root.find("saml:Assertion", NSMAP), idp.keys)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def saml_request_id(location: str) -> str:
    """The ID of the AuthnRequest carried by an HTTP-Redirect binding URL."""
    encoded = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(encoded), -15)
    return etree.fromstring(xml).get("ID")


class SsoTrip:
    """A browser going through enterprise login for one organization, with its IdP."""

    def __init__(self, client, organization, idp):
        self.client, self.organization, self.idp = client, organization, idp
        self.acs_url = sp_acs_url(organization)
        self.audience = sp_entity_id(organization)

    def start(self, email="ada@acme.com", next_url=None) -> str:
        """Ask for enterprise login; the ID of the AuthnRequest the browser is sent off with."""
        data = {"email": email, **({"next": next_url} if next_url else {})}
        response = self.client.post("/signin/enterprise/", data)
        assert response.status_code == 302, response.content
        assert response["Location"].startswith(self.idp.sso_url + "?SAMLRequest=")
        return saml_request_id(response["Location"])

    def response_xml(self, *, session_not_on_or_after: datetime | str | None = None,
                     **fields) -> bytes:
        fields.setdefault("email", "ada@acme.com")
        fields.setdefault("audience", self.audience)
        fields.setdefault("acs_url", self.acs_url)
        if "in_response_to" not in fields:
            fields["in_response_to"] = self.start()
        if session_not_on_or_after is not None:
            return with_session_not_on_or_after(self.idp, session_not_on_or_after, **fields)
        return self.idp.response_xml(**fields)

    def post(self, xml: bytes | None = None, *, saml_response: str | None = None,
             relay_state: str | None = None, **fields):
        """Post a Response to this organization's ACS, as the browser does for the IdP."""
        if saml_response is None:
            saml_response = encode(xml if xml is not None else self.response_xml(**fields))
        data = {"SAMLResponse": saml_response}
        if relay_state is not None:
            data["RelayState"] = relay_state
        return self.client.post(self.acs_url, data)


@pytest.fixture
def acme_trip(client, acme, acme_idp):
    return SsoTrip(client, acme, acme_idp)


@pytest.fixture
def make_trip():
    """A trip made after the test changed settings (SITE_URL) that its URLs depend on."""
    return SsoTrip


@pytest.fixture
def globex_trip(client, globex, globex_idp):
    return SsoTrip(client, globex, globex_idp)


@pytest.fixture
def acme_admin(make_member, acme):
    return make_member(email="grace@acme.com", organization=acme, role=Membership.Role.ADMIN,
                       full_name="Grace Hopper")
