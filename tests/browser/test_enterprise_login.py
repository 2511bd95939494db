"""Enterprise login in a real browser, against the test identity provider (tests/saml_idp.py).

The identity provider's pages live on https://idp.acme.test, which Playwright answers
itself: its sign-in page is a form that posts a signed Response to our ACS, as an IdP's
page does once the person has signed in there.
"""

import base64
import html
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree
from playwright.sync_api import expect

from organizations.models import EmailDomain, EnterpriseLogin, Workspace
from organizations.saml import sp_acs_url, sp_entity_id
from tests.browser.steps import expect_home, label
from tests.saml_idp import TestIdentityProvider, encode, key_pair_generate

pytestmark = pytest.mark.browser


@pytest.fixture
def acme_idp(tmp_path):
    return TestIdentityProvider(
        entity_id="https://idp.acme.test/saml/metadata",
        sso_url="https://idp.acme.test/saml/sso",
        keys=key_pair_generate(tmp_path, "acme"),
    )


def idp_page(idp, organization, *, email):
    """Playwright's answer to the browser's visit to the IdP: a signed Response to post."""
    acs_url, audience = sp_acs_url(organization), sp_entity_id(organization)

    def answer(route):
        query = parse_qs(urlsplit(route.request.url).query)
        request_xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
        response = idp.response_xml(
            email=email,
            audience=audience,
            acs_url=acs_url,
            in_response_to=etree.fromstring(request_xml).get("ID"),
        )
        relay_state = query.get("RelayState", [""])[0]
        route.fulfill(
            content_type="text/html",
            body=f"""<!doctype html><html lang="en"><title>Acme sign-in</title>
            <form method="post" action="{html.escape(acs_url)}">
              <input type="hidden" name="SAMLResponse" value="{encode(response)}">
              <input type="hidden" name="RelayState" value="{html.escape(relay_state)}">
              <p>Signed in at Acme as {html.escape(email)}.</p>
              <button type="submit">Continue to Backstage</button>
            </form>""",
        )

    return answer


def test_enterprise_login_signs_in_with_the_identity_provider_and_no_code(
    person, make_organization, make_member, acme_idp, sms_inbox
):
    acme = make_organization(name="Acme Events", slug="acme")
    Workspace.objects.create(organization=acme, name="Spring Summit 2025", slug="spring-summit")
    EmailDomain.objects.create(organization=acme, domain="acme.com")
    login = EnterpriseLogin(
        organization=acme, enabled=True, idp_metadata_xml=acme_idp.metadata_xml()
    )
    login.full_clean()
    login.save()
    make_member(email="ada@acme.com", organization=acme)
    person.context.route("https://idp.acme.test/**", idp_page(acme_idp, acme, email="ada@acme.com"))
    page = person.page

    person.goto("/signin/")
    page.get_by_role("link", name="Enterprise login").click()
    expect(page.get_by_role("heading", name="Enterprise login")).to_be_visible()
    person.check("enterprise-login")
    page.get_by_label(label("Work email")).fill("ada@acme.com")
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("button", name="Continue to Backstage").click()
    expect_home(page, "Ada")
    expect(page.locator(".workspaces")).to_contain_text("Spring Summit 2025")
    assert sms_inbox.messages() == []
