"""What organization admins and IdPs see: the read-only Enterprise login page, SP metadata."""

import pytest
from lxml import etree

from organizations.models import EnterpriseLogin, Membership
from tests.saml_idp import NSMAP

pytestmark = pytest.mark.django_db


# The organization admins' Enterprise login page ----------------------------------------------

def test_admin_sees_state_domains_and_what_to_give_their_idp(client, acme, acme_admin):
    EnterpriseLogin.objects.filter(organization=acme).update(mandatory=True)
    client.force_login(acme_admin)

    response = client.get("/organizations/acme/enterprise-login/")

    assert response.status_code == 200
    page = response.text
    assert "<h1>Enterprise login</h1>" in page
    assert "<dt>Enterprise login</dt>\n  <dd>On</dd>" in page
    assert "Yes: members of the claimed domains must use Enterprise login" in page
    assert "acme.com" in page
    assert "http://testserver/sso/acme/metadata/" in page
    assert "http://testserver/sso/acme/acs/" in page
    # Read-only: no form but the sign-out button of the page layout.
    assert page.count("<form") == page.count('action="/signout/"')


def test_admin_sees_an_organization_without_enterprise_login(
    client, make_organization, make_member
):
    organization = make_organization("Initech")
    admin = make_member(email="bill@initech.com", organization=organization,
                        role=Membership.Role.ADMIN)
    client.force_login(admin)

    response = client.get("/organizations/initech/enterprise-login/")

    assert "<dt>Enterprise login</dt>\n  <dd>Off</dd>" in response.text
    assert "None yet" in response.text
    assert "http://testserver/sso/initech/acs/" in response.text


def test_member_who_is_not_admin_gets_not_found(client, ada):
    client.force_login(ada)

    assert client.get("/organizations/acme/enterprise-login/").status_code == 404


def test_admin_of_another_organization_gets_not_found(client, acme, globex, make_member):
    client.force_login(make_member(email="hank@globex.com", organization=globex,
                                   role=Membership.Role.ADMIN))

    assert client.get("/organizations/acme/enterprise-login/").status_code == 404
    assert client.get("/organizations/nowhere/enterprise-login/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, acme):
    response = client.get("/organizations/acme/enterprise-login/")

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")


# SP metadata ---------------------------------------------------------------------------------

def test_metadata_describes_this_organizations_sp(client, acme):
    response = client.get("/sso/acme/metadata/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.get("entityID") == "http://testserver/sso/acme/metadata/"
    descriptor = root.find("md:SPSSODescriptor", NSMAP)
    assert descriptor.get("AuthnRequestsSigned") == "false"
    assert descriptor.get("WantAssertionsSigned") == "true"
    acs = descriptor.find("md:AssertionConsumerService", NSMAP)
    assert acs.get("Location") == "http://testserver/sso/acme/acs/"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert descriptor.find("md:KeyDescriptor", NSMAP) is None


def test_metadata_is_served_before_the_idp_is_configured(client, make_organization):
    make_organization("Initech")

    response = client.get("/sso/initech/metadata/")

    assert response.status_code == 200
    assert b'entityID="http://testserver/sso/initech/metadata/"' in response.content


def test_metadata_of_unknown_organization_is_not_found(client, db):
    assert client.get("/sso/nowhere/metadata/").status_code == 404
