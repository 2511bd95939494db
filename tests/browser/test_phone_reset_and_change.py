"""A phone removed by an admin, then a new one; and a member changing their own phone."""

import pytest
from playwright.sync_api import expect

from mfa.models import SmsDevice
from organizations.models import Membership
from tests.browser.steps import (
    choose_country,
    confirm_password,
    enter_code,
    expect_flag,
    expect_globe,
    expect_home,
    label,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.browser


def test_remove_user_phone_then_the_member_sets_a_new_one(
    person, open_browser, enrolled_member, sms_inbox, email_inbox, clock
):
    ada = enrolled_member(email="ada@example.com")
    grace = enrolled_member(
        email="grace@example.com",
        full_name="Grace Hopper",
        number="+41791234568",
        role=Membership.Role.ADMIN,
    )
    # Ada signs in on her browser and has it remembered.
    sign_in(person, ada.email)
    enter_code(person, sms_inbox, remember=True)
    expect_home(person.page, "Ada")

    # Grace, an admin, removes Ada's phone from the Members page.
    admin = open_browser()
    page = signed_in(admin, grace)
    page.get_by_role("navigation", name="Organizations and workspaces").get_by_role(
        "link", name="Members"
    ).click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    admin.check("members")
    page.get_by_role("row", name="Ada Lovelace").get_by_role(
        "link", name="Remove user phone"
    ).click()
    admin.check("members-phone-remove")
    page.get_by_role("button", name="Remove user phone").click()
    expect(page.get_by_role("status")).to_contain_text("The phone of Ada Lovelace was removed")
    admin.check("members-phone-removed")
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert email_inbox.last_to("ada@example.com")

    # Ada was signed out, and her browser is no longer remembered: she sets a new number.
    ada_page = person.page
    ada_page.reload()
    expect(ada_page.get_by_role("heading", name="Log in to Backstage")).to_be_visible()
    expect(ada_page.get_by_role("status")).to_have_text(
        "An administrator removed your phone: sign in and add a new one."
    )
    person.check("signin-phone-removed")
    clock.advance(seconds=31)
    sign_in(person, ada.email)
    expect_globe(ada_page)
    choose_country(ada_page, "France", "fr")
    ada_page.get_by_label(label("Mobile number")).fill("06 12 34 56 78")
    ada_page.get_by_role("button", name="Send a code").click()
    enter_code(person, sms_inbox, remember=False)
    expect_home(ada_page, "Ada")
    assert str(SmsDevice.objects.get(user=ada).number) == "+33612345678"


def test_change_phone_from_personal_settings(person, enrolled_member, sms_inbox):
    ada = enrolled_member(email="ada@example.com")
    page = signed_in(person, ada)

    # The initials at the bottom left, then the name: personal settings.
    page.locator(".account-button").click()
    page.locator(".account-panel").get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("link", name="Change phone").click()
    # The session's password was not given in the last 10 minutes: it is asked first.
    confirm_password(person)
    expect(page.get_by_role("heading", name="Change phone")).to_be_visible()
    expect_globe(page)
    person.check("settings-phone")

    choose_country(page, "+44", "gb")
    expect_flag(page, "gb")
    page.get_by_label(label("Mobile number")).fill("07400 123456")
    page.get_by_role("button", name="Send a code").click()

    # The code goes to the new number; the old one stays until it is entered.
    expect(page.get_by_role("heading", name="Confirm your new phone")).to_be_visible()
    assert sms_inbox.messages()[-1].startswith("To: +447400123456\n")
    assert str(SmsDevice.objects.get(user=ada).number) == "+41791234567"
    person.check("settings-phone-code")
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text("Your phone number has been changed.")
    person.check("settings-phone-changed")
    assert str(SmsDevice.objects.get(user=ada).number) == "+447400123456"
