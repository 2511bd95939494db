"""Forgot password?, the Activity tab and the mandatory enterprise-login refusal, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import EmailDomain, EnterpriseLogin, Membership
from tests.browser.steps import label, sign_in, signed_in

pytestmark = pytest.mark.browser
NEW_PASSWORD = "purple elephants dance quietly"


def test_forgot_password_from_the_email_link_to_signing_in_with_the_code(
    person, enrolled_member, email_inbox, sms_inbox
):
    enrolled_member()
    page = person.page
    person.goto("/signin/")
    page.get_by_role("link", name="Forgot password?").click()
    person.check("password-reset")
    page.get_by_label(label("Email")).fill("ada@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("If an account exists for that email")).to_be_visible()
    person.check("password-reset-sent")

    link = re.search(
        r"https?://\S+/password-reset/\S+/",
        email_inbox.last_to("ada@example.com").get_body(preferencelist=("plain",)).get_content(),
    ).group(0)
    page.goto(link)
    person.check("password-reset-confirm")
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password again")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_label(label("Email"))).to_have_value("ada@example.com")
    person.check("signin-password-reset-done")

    # The reset signs nobody in, and the code is still asked for.
    sign_in(person, "ada@example.com", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()


def test_activity_tab_lists_the_organizations_security_events(person, make_member):
    admin = make_member(
        email="grace@example.com", role=Membership.Role.ADMIN, full_name="Grace Hopper"
    )
    make_member(email="ada@example.com")
    page = signed_in(person, admin)
    person.goto("/organizations/acme-events/members/")
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    person.check("activity-empty")


def test_mandatory_enterprise_login_refuses_the_password_and_points_the_way(
    person, make_member, make_organization
):
    acme = make_organization("Acme", slug="acme")
    EmailDomain.objects.create(organization=acme, domain="acme.com")
    EnterpriseLogin.objects.create(
        organization=acme,
        enabled=True,
        mandatory=True,
        idp_entity_id="https://idp.acme.test",
        idp_sso_url="https://idp.acme.test/sso",
    )
    make_member(email="lin@acme.com", organization=acme)
    page = sign_in(person, "lin@acme.com")
    expect(
        page.get_by_text("Your organization signs you in with Enterprise login.")
    ).to_be_visible()
    person.check("signin-enterprise-required")
    page.get_by_role("link", name="Continue with Enterprise login").click()
    expect(page).to_have_url(re.compile(r"/signin/enterprise/\?email=lin%40acme\.com$"))
