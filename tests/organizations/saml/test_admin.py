"""Support staff set up enterprise login in Django admin: metadata in, clear errors out."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import etree

from accounts.signin import METHOD_KEY
from organizations.forms import EmailDomainForm, EnterpriseLoginAdminForm
from organizations.models import EmailDomain, EnterpriseLogin
from tests.saml_idp import MD, SAMLP, TestIdentityProvider

pytestmark = pytest.mark.django_db


def admin_form(organization, files=None, **data):
    data.setdefault("enabled", True)
    return EnterpriseLoginAdminForm(
        data=data, files=files, instance=EnterpriseLogin(organization=organization)
    )


def metadata_errors(form) -> str:
    assert not form.is_valid()
    return " ".join(form.errors["idp_metadata_xml"])


@pytest.fixture
def initech(make_organization):
    return make_organization("Initech")


def aggregate(*entities) -> str:
    """An EntitiesDescriptor (as federations publish) around EntityDescriptors, which may be
    metadata documents or elements."""
    root = etree.Element(f"{{{MD}}}EntitiesDescriptor", nsmap={"md": MD})
    for entity in entities:
        root.append(etree.fromstring(entity.encode()) if isinstance(entity, str) else entity)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def sp_entity(entity_id="https://sp.example/metadata"):
    """A service provider's EntityDescriptor: no IDPSSODescriptor."""
    entity = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD}, entityID=entity_id)
    etree.SubElement(entity, f"{{{MD}}}SPSSODescriptor", protocolSupportEnumeration=SAMLP)
    return entity


# Metadata ------------------------------------------------------------------------------------

def test_metadata_is_parsed_into_entity_id_sso_url_and_certificate(initech, acme_idp):
    form = admin_form(initech, idp_metadata_xml=acme_idp.metadata_xml())

    assert form.is_valid(), form.errors
    login = form.save()
    assert login.idp_entity_id == "https://idp.acme.test/saml/metadata"
    assert login.idp_sso_url == "https://idp.acme.test/saml/sso"
    assert login.idp_certificates == [acme_idp.keys.cert_base64]


def test_uploaded_metadata_file_is_used(initech, acme_idp):
    upload = SimpleUploadedFile("idp.xml", acme_idp.metadata_xml().encode(), "text/xml")

    form = admin_form(initech, files={"idp_metadata_file": upload})

    assert form.is_valid(), form.errors
    assert form.save().idp_entity_id == "https://idp.acme.test/saml/metadata"


def test_several_signing_certificates_are_kept(initech, acme_idp, key_pairs):
    xml = acme_idp.metadata_xml(certificates=[key_pairs["acme"], key_pairs["globex"]])

    form = admin_form(initech, idp_metadata_xml=xml)

    assert form.is_valid(), form.errors
    assert len(form.save().idp_certificates) == 2


@pytest.mark.parametrize(("metadata", "message"), [
    ("this is not xml", "The metadata is not well-formed XML"),
    ("<md:EntityDescriptor", "The metadata is not well-formed XML"),
    ("<html><body>Our IdP</body></html>", "This is XML, but not SAML2 metadata"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><md:EntityDescriptor '
     'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">&a;</md:EntityDescriptor>',
     "The metadata contains a DTD or entity declarations, which are not allowed."),
    ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
     "<md:SPSSODescriptor protocolSupportEnumeration='urn:oasis:names:tc:SAML:2.0:protocol'/>"
     "</md:EntityDescriptor>",
     "The metadata describes no identity provider"),
])
def test_bad_metadata_gets_a_clear_error(initech, metadata, message):
    assert message in metadata_errors(admin_form(initech, idp_metadata_xml=metadata))


def test_aggregate_with_one_identity_provider_is_read(initech, acme_idp):
    form = admin_form(initech, idp_metadata_xml=aggregate(acme_idp.metadata_xml()))

    assert form.is_valid(), form.errors
    assert form.save().idp_entity_id == "https://idp.acme.test/saml/metadata"


def test_the_one_identity_provider_is_found_after_service_providers(
    initech, globex_idp, key_pairs
):
    form = admin_form(initech, idp_metadata_xml=aggregate(
        sp_entity(), globex_idp.metadata_xml(), sp_entity("https://sp2.example/")
    ))

    assert form.is_valid(), form.errors
    login = form.save()
    assert login.idp_entity_id == "https://login.globex.test/idp"
    assert login.idp_sso_url == "https://login.globex.test/idp/sso"
    assert login.idp_certificates == [key_pairs["globex"].cert_base64]


def test_an_entity_id_with_quotes_is_read_as_it_is(initech, acme_idp):
    acme_idp.entity_id = "https://idp.acme.test/saml/'or'1'='1"

    form = admin_form(initech, idp_metadata_xml=aggregate(sp_entity(), acme_idp.metadata_xml()))

    assert form.is_valid(), form.errors
    assert form.save().idp_entity_id == "https://idp.acme.test/saml/'or'1'='1"


def test_aggregate_with_several_identity_providers_is_refused_naming_them(
    initech, acme_idp, globex_idp
):
    xml = aggregate(sp_entity(), acme_idp.metadata_xml(), globex_idp.metadata_xml())

    assert metadata_errors(admin_form(initech, idp_metadata_xml=xml)) == (
        "The metadata describes 2 identity providers: https://idp.acme.test/saml/metadata, "
        "https://login.globex.test/idp. Paste the metadata of the one identity provider this "
        "organization signs in with."
    )


def test_a_large_aggregate_is_refused_naming_its_first_five(initech, key_pairs):
    idps = [
        TestIdentityProvider(entity_id=f"https://idp{number}.example/",
                             sso_url=f"https://idp{number}.example/sso", keys=key_pairs["acme"])
        for number in range(1, 8)
    ]
    # Federations nest aggregates in aggregates.
    xml = aggregate(etree.fromstring(aggregate(*(idp.metadata_xml() for idp in idps)).encode()))

    errors = metadata_errors(admin_form(initech, idp_metadata_xml=xml))

    assert "describes 7 identity providers: https://idp1.example/, " in errors
    assert "https://idp5.example/ and 2 more." in errors
    assert "idp6" not in errors


def test_metadata_without_a_signing_certificate_is_refused(initech, acme_idp):
    xml = acme_idp.metadata_xml(certificates=[])

    assert "The metadata has no signing certificate" in metadata_errors(
        admin_form(initech, idp_metadata_xml=xml)
    )


def test_metadata_with_an_unreadable_certificate_is_refused(initech, acme_idp):
    xml = acme_idp.metadata_xml().replace(acme_idp.keys.cert_base64[:40], "AAAA")

    assert "A signing certificate in the metadata cannot be read." in metadata_errors(
        admin_form(initech, idp_metadata_xml=xml)
    )


def test_metadata_without_a_redirect_sso_url_is_refused(initech, acme_idp):
    xml = acme_idp.metadata_xml(sso_binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")

    assert "no single sign-on URL with the HTTP-Redirect binding" in metadata_errors(
        admin_form(initech, idp_metadata_xml=xml)
    )


def test_plain_http_sso_url_is_refused(initech, acme_idp):
    acme_idp.sso_url = "http://idp.acme.test/sso"

    assert "must be an https:// URL" in metadata_errors(
        admin_form(initech, idp_metadata_xml=acme_idp.metadata_xml())
    )


def test_enabling_without_metadata_is_refused(initech):
    assert "Paste the identity provider" in metadata_errors(admin_form(initech))


def test_mandatory_needs_enabled(initech, acme_idp):
    form = admin_form(initech, enabled=False, mandatory=True,
                      idp_metadata_xml=acme_idp.metadata_xml())

    assert not form.is_valid()
    assert form.errors["mandatory"] == ["Enterprise login must be enabled to be mandatory."]


# Claimed domains -----------------------------------------------------------------------------

def test_domain_is_stored_lower_case_without_trailing_dot(initech):
    form = EmailDomainForm(data={"domain": " Initech.COM. "},
                           instance=EmailDomain(organization=initech))

    assert form.is_valid(), form.errors
    assert form.save().domain == "initech.com"


def test_domain_claimed_by_another_organization_is_refused(initech, acme):
    form = EmailDomainForm(data={"domain": "ACME.com"}, instance=EmailDomain(organization=initech))

    assert not form.is_valid()
    assert form.errors["domain"] == ["Another organization already claims this domain."]


@pytest.mark.parametrize("domain", ["Bücher.example", "xn--bcher-kva.example."])
def test_international_domain_is_stored_in_its_xn_form(initech, domain):
    form = EmailDomainForm(data={"domain": domain}, instance=EmailDomain(organization=initech))

    assert form.is_valid(), form.errors
    assert form.save().domain == "xn--bcher-kva.example"


def test_unicode_spelling_of_a_claimed_domain_is_refused(initech, buecher_example):
    form = EmailDomainForm(data={"domain": "bücher.example"},
                           instance=EmailDomain(organization=initech))

    assert not form.is_valid()
    assert form.errors["domain"] == ["Another organization already claims this domain."]


@pytest.mark.parametrize("domain", [
    "initech", "ada@initech.com", "initech.com/x", "-a.com", "", "bü..example", "💩.example",
])
def test_what_is_not_a_domain_is_refused(initech, domain):
    form = EmailDomainForm(data={"domain": domain}, instance=EmailDomain(organization=initech))

    assert not form.is_valid()


# The admin pages -----------------------------------------------------------------------------

@pytest.fixture
def support(client, make_user):
    staff = make_user(email="support@backstage.test", is_staff=True, is_superuser=True)
    client.force_login(staff)
    session = client.session
    session[METHOD_KEY] = "sms"  # admin wants the second factor
    session.save()
    return client


def test_organization_page_shows_what_the_customer_gives_their_idp(support, acme):
    response = support.get(f"/admin/organizations/organization/{acme.pk}/change/")

    assert response.status_code == 200
    page = response.text
    assert "http://testserver/sso/acme/metadata/" in page
    assert "http://testserver/sso/acme/acs/" in page
    assert "https://idp.acme.test/saml/sso" in page
    assert "acme.com" in page


def test_bad_metadata_in_admin_is_a_form_error(support, initech):
    response = support.post(f"/admin/organizations/organization/{initech.pk}/change/", {
        "name": "Initech", "slug": "initech",
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "0",
        "domains-0-domain": "initech.com",
        "enterprise_login-TOTAL_FORMS": "1", "enterprise_login-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "workspaces-TOTAL_FORMS": "0", "workspaces-INITIAL_FORMS": "0",
        "enterprise_login-0-enabled": "on",
        "enterprise_login-0-idp_metadata_xml": "<not-metadata/>",
    })

    assert response.status_code == 200
    assert "This is XML, but not SAML2 metadata" in response.text
    assert not EnterpriseLogin.objects.filter(organization=initech).exists()
    assert not EmailDomain.objects.filter(organization=initech).exists()


def test_aggregate_metadata_in_admin_is_a_form_error(support, initech, acme_idp, globex_idp):
    response = support.post(f"/admin/organizations/organization/{initech.pk}/change/", {
        "name": "Initech", "slug": "initech",
        "domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0",
        "enterprise_login-TOTAL_FORMS": "1", "enterprise_login-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "workspaces-TOTAL_FORMS": "0", "workspaces-INITIAL_FORMS": "0",
        "enterprise_login-0-enabled": "on",
        "enterprise_login-0-idp_metadata_xml": aggregate(
            acme_idp.metadata_xml(), globex_idp.metadata_xml()
        ),
    })

    assert response.status_code == 200
    assert ("The metadata describes 2 identity providers: https://idp.acme.test/saml/metadata, "
            "https://login.globex.test/idp.") in response.text
    assert not EnterpriseLogin.objects.filter(organization=initech).exists()


def test_admin_saves_domains_and_enterprise_login(support, initech, acme_idp):
    response = support.post(f"/admin/organizations/organization/{initech.pk}/change/", {
        "name": "Initech", "slug": "initech",
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "0",
        "domains-0-domain": "Initech.com",
        "enterprise_login-TOTAL_FORMS": "1", "enterprise_login-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "workspaces-TOTAL_FORMS": "0", "workspaces-INITIAL_FORMS": "0",
        "enterprise_login-0-enabled": "on",
        "enterprise_login-0-mandatory": "on",
        "enterprise_login-0-idp_metadata_xml": acme_idp.metadata_xml(),
    })

    assert response.status_code == 302, response.text
    login = EnterpriseLogin.objects.get(organization=initech)
    assert (login.enabled, login.mandatory) == (True, True)
    assert login.idp_sso_url == "https://idp.acme.test/saml/sso"
    assert list(initech.domains.values_list("domain", flat=True)) == ["initech.com"]


def test_slug_is_fixed_once_enterprise_login_is_set_up(support, acme):
    """The slug is in the SP entity ID and ACS URL that the customer's IdP was given."""
    page = support.get(f"/admin/organizations/organization/{acme.pk}/change/").text

    assert 'name="slug"' not in page
