"""At a phone's width (375 px): the tables of the Members, Activity and personal settings
pages become cards in which every value keeps its label, and no page scrolls sideways
(Browser.check)."""

import pytest
from playwright.sync_api import expect

from accounts.invitations import invitation_create
from organizations.members import member_phone_reset
from organizations.models import Membership
from tests.browser.steps import enter_code, expect_home, expect_labelled_cards, sign_in, signed_in

pytestmark = pytest.mark.browser


def test_members_and_activity_cards_label_every_value(
    open_browser, enrolled_member, make_member
):
    grace = enrolled_member(
        email="grace@example.com",
        full_name="Grace Hopper",
        number="+41791234568",
        role=Membership.Role.ADMIN,
    )
    ada = enrolled_member(email="ada@example.com")
    acme = grace.memberships.get().organization
    make_member(email="a.very.long.address.for.a.card@subdomain.example.com", full_name="")
    invitation_create(email="lin@example.com", organization=acme, invited_by=grace)
    # Something for Activity to show: a reset done by Grace, about Ada.
    member_phone_reset(actor=grace, member=ada, organization=acme)

    person = open_browser(width=375)
    page = signed_in(person, grace)
    person.goto(f"/organizations/{acme.slug}/members/")
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    expect_labelled_cards(page.locator("table.invitations"))
    expect_labelled_cards(page.locator("table.members"))
    person.check("members-invitations")

    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    rows = page.locator("table.activity tbody tr")
    expect(rows.first).to_contain_text("Phone removed")
    expect(rows.first.locator("td[data-label=By]")).to_have_text("Grace Hopper")
    expect(rows.first.locator("td[data-label=About]")).to_have_text("Ada Lovelace")
    expect_labelled_cards(page.locator("table.activity"))
    person.check("activity")


def test_remembered_browsers_are_cards_with_labels_and_forget_in_reach(
    open_browser, enrolled_member, sms_inbox
):
    enrolled_member(email="ada@example.com")
    person = open_browser(width=375)
    page = sign_in(person, "ada@example.com")
    enter_code(person, sms_inbox, remember=True)
    expect_home(page, "Ada")

    person.goto("/settings/")
    browsers = page.locator("table.browsers")
    expect(browsers).to_contain_text("(this browser)")
    expect_labelled_cards(browsers)
    forget = browsers.get_by_role("button", name="Forget")
    box = forget.bounding_box()
    assert box["x"] + box["width"] <= 375, box
    person.check("settings-browsers")

    forget.click()
    expect(page.get_by_role("status")).to_be_visible()
    person.check("settings-browser-forgotten")
