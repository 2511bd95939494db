"""Later sign-ins in a real browser: the remembered browser, and Send again."""

import pytest
from playwright.sync_api import expect

from tests.browser.steps import enter_code, expect_home, label, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_a_remembered_browser_skips_the_code_for_14_days(
    person, open_browser, enrolled_member, sms_inbox, clock
):
    enrolled_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com", check="signin")
    enter_code(person, sms_inbox, remember=True)
    expect_home(page, "Ada")
    sign_out(page)

    # The same browser: email and password are enough, and no text message is sent.
    clock.advance(days=13)
    sign_in(person, "ada@example.com")
    expect_home(page, "Ada")
    assert len(sms_inbox.messages()) == 1
    sign_out(page)

    # Another browser is not remembered.
    other = open_browser()
    sign_in(other, "ada@example.com")
    expect(other.page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert len(sms_inbox.messages()) == 2

    # Fourteen days after it was granted, the same browser needs a code again.
    clock.advance(days=1, seconds=1)
    sign_in(person, "ada@example.com")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert len(sms_inbox.messages()) == 3


def test_without_remember_me_the_next_sign_in_asks_for_a_code(
    person, enrolled_member, sms_inbox, clock
):
    enrolled_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com", "not the password")
    expect(page.locator(".error-summary")).to_be_visible()
    person.check("signin-error")
    clock.advance(seconds=2)
    page = sign_in(person, "ada@example.com")
    enter_code(person, sms_inbox, remember=False)
    expect_home(page, "Ada")
    sign_out(page)

    clock.advance(minutes=5)
    sign_in(person, "ada@example.com")
    enter_code(person, sms_inbox, remember=False)
    expect_home(page, "Ada")
    assert len(sms_inbox.messages()) == 2


def test_send_again_after_the_cooldown(person, enrolled_member, sms_inbox, clock):
    enrolled_member(email="ada@example.com")
    page = person.page
    # The browser's clock too, so that the countdown can be fast-forwarded.
    page.clock.install()
    sign_in(person, "ada@example.com")

    code = page.get_by_label(label("Code"))
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(code).to_have_attribute("inputmode", "numeric")
    send_again = page.get_by_role("button", name="Send again")
    expect(send_again).to_be_disabled()
    expect(page.locator(".resend")).to_contain_text("available in 30 seconds")
    person.check("code")
    first_code = sms_inbox.last_code()

    clock.advance(seconds=31)
    page.clock.fast_forward(31_000)
    expect(send_again).to_be_enabled()
    send_again.click()

    expect(page.get_by_role("status")).to_contain_text("A new code is on its way.")
    person.check("code-resent")
    assert len(sms_inbox.messages()) == 2
    # The first code died with the new one.
    page.get_by_label(label("Code")).fill(first_code)
    page.get_by_role("button", name="Continue").click()
    if first_code != sms_inbox.last_code():
        expect(page.locator(".errorlist")).to_contain_text("That code isn't right")
        person.check("code-error")
        clock.advance(seconds=2)  # the back-off after a wrong code
    enter_code(person, sms_inbox, remember=False)
    expect_home(page, "Ada")


def test_send_again_works_without_javascript(open_browser, enrolled_member, sms_inbox, clock):
    enrolled_member(email="ada@example.com")
    person = open_browser(javascript=False)
    page = sign_in(person, "ada@example.com")

    # Too early: the server says how long to wait.
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text("You can ask for another in")
    assert len(sms_inbox.messages()) == 1

    clock.advance(seconds=31)
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text("A new code is on its way.")
    assert len(sms_inbox.messages()) == 2


def test_staff_with_a_remembered_browser_enter_a_code_before_django_admin(
    person, enrolled_member, sms_inbox, clock
):
    enrolled_member(email="sam@example.com", full_name="Sam Support", is_staff=True,
                    is_superuser=True)
    page = sign_in(person, "sam@example.com")
    enter_code(person, sms_inbox, remember=True)
    sign_out(page)

    # Remembered: the password alone signs in, but Django admin wants a code in this session.
    clock.advance(minutes=5)
    sign_in(person, "sam@example.com")
    person.goto("/admin/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    person.check("admin-step-up")
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_text("We sent a 6-digit code by text message")).to_be_visible()
    person.check("admin-step-up-code")
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert len(sms_inbox.messages()) == 2
