"""An authenticator app in a real browser: set up from personal settings with the key read
off the page, then a sign-in with the password and the app's code."""

import pytest
from playwright.sync_api import expect

from tests.browser.steps import (
    confirm_password,
    expect_home,
    label,
    sign_in,
    sign_out,
    signed_in,
)

pytestmark = pytest.mark.browser


def test_set_up_an_authenticator_app_then_sign_in_with_it(
    person, enrolled_member, sms_inbox, email_inbox, app_code, clock
):
    ada = enrolled_member(email="ada@example.com")
    page = signed_in(person, ada)

    # The initials at the bottom left, then the name: personal settings.
    page.locator(".account-button").click()
    page.locator(".account-panel").get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Authenticator app")).to_be_visible()
    person.check("settings")
    page.get_by_role("button", name="Set up an authenticator app").click()
    # The session's password was not given in the last 10 minutes: it is asked first, then
    # the button is pressed again on the page it was on.
    confirm_password(person)
    expect(page.get_by_role("heading", name="Authenticator app")).to_be_visible()
    page.get_by_role("button", name="Set up an authenticator app").click()

    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code to scan with your authenticator app")
    ).to_be_visible()
    person.check("settings-authenticator")
    # The person types the key into their app, which then shows a code.
    key = page.locator("#secret-key").inner_text()
    page.get_by_label(label("Code")).fill(app_code(key=key))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("status")).to_contain_text("Your authenticator app is set up.")
    person.check("settings-authenticator-added")
    expect(page.locator("#secret-key")).to_have_count(0)
    expect(page.get_by_role("link", name="Remove authenticator app")).to_be_visible()
    assert "An authenticator app was added" in email_inbox.last_to("ada@example.com")["Subject"]
    sign_out(page)

    # The next sign-in asks for the app's next code, and sends no text message.
    clock.advance(seconds=30)
    sign_in(person, "ada@example.com")
    expect(
        page.get_by_role("heading", name="Enter the code from your authenticator app")
    ).to_be_visible()
    expect(
        page.get_by_role("button", name="Send a code by text message instead")
    ).to_be_visible()
    person.check("signin-app")
    page.get_by_label(label("Code")).fill(app_code(key=key))
    page.get_by_role("button", name="Continue").click()
    expect_home(page, "Ada")
    assert sms_inbox.messages() == []


def test_remove_the_authenticator_app_from_personal_settings(
    person, enrolled_member, add_authenticator
):
    ada = enrolled_member(email="ada@example.com")
    add_authenticator(ada)
    page = signed_in(person, ada)
    person.goto("/settings/")
    page.get_by_role("link", name="Remove authenticator app").click()
    confirm_password(person)

    expect(page.get_by_role("heading", name="Remove your authenticator app?")).to_be_visible()
    person.check("settings-authenticator-remove")
    page.get_by_role("button", name="Remove authenticator app").click()

    expect(page.get_by_role("status")).to_contain_text("Your authenticator app has been removed.")
    person.check("settings-authenticator-removed")
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()
