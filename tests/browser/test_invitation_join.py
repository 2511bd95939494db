"""An invitation to someone who already has an account: sign in, come back, join."""

import pytest
from playwright.sync_api import expect

from accounts.invitations import invitation_create
from organizations.models import Membership, Workspace
from tests.browser.steps import enter_code, expect_home, label
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_member_of_one_organization_joins_another_from_the_invitation_email(
    person, email_inbox, sms_inbox, enrolled_member, make_organization
):
    globex = make_organization(name="Globex", slug="globex")
    grace = enrolled_member("grace@example.com", organization=globex, full_name="Grace Hopper")
    acme = make_organization(name="Acme Events", slug="acme-events")
    Workspace.objects.create(organization=acme, name="Spring Summit 2025", slug="spring-summit")
    invitation_create(email="grace@example.com", organization=acme)
    page = person.page

    page.set_content(
        email_inbox.last_to("grace@example.com").get_body(preferencelist=("html",)).get_content()
    )
    page.get_by_role("link", name="Log in to Backstage").click()

    expect(page.get_by_role("heading", name="Join Acme Events")).to_be_visible()
    person.check("invitation-join-signin")
    page.get_by_role("link", name="Log in to Backstage").click()

    # The sign-in page knows the address; the password and the code bring her back here.
    expect(page.get_by_label(label("Email"))).to_have_value("grace@example.com")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    enter_code(person, sms_inbox, remember=False)

    expect(page.get_by_role("heading", name="Join Acme Events")).to_be_visible()
    person.check("invitation-join")
    assert not Membership.objects.filter(user=grace, organization=acme).exists()
    page.get_by_role("button", name="Join Acme Events").click()

    expect_home(page, "Grace")
    expect(page.get_by_role("status")).to_contain_text("You've joined Acme Events.")
    person.check("home-joined")
    expect(page.locator(".workspaces")).to_contain_text("Spring Summit 2025")
    assert Membership.objects.get(user=grace, organization=acme).role == Membership.Role.MEMBER
