"""Recovery codes in a real browser: created in personal settings, copied and downloaded,
then a sign-in with the password and one of them in place of the text message, and the
step-up before Django admin with one."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from mfa.recovery import recovery_codes_create
from tests.browser.steps import (
    confirm_password,
    enter_code,
    expect_home,
    label,
    sign_in,
    sign_out,
    signed_in,
)

pytestmark = pytest.mark.browser

CODE = re.compile(r"^[a-z2-9]{5}-[a-z2-9]{5}$")


def create_codes(person, page) -> list[str]:
    person.goto("/settings/")
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    page.get_by_role("button", name="Create recovery codes").click()
    # The session's password was not given in the last 10 minutes: it is asked first, then
    # the button is pressed again on the page it was on.
    confirm_password(person, check="recovery-confirm-password")
    page.get_by_role("button", name="Create recovery codes").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = [code.strip() for code in page.locator(".recovery-codes code").all_inner_texts()]
    assert len(codes) == 10 and all(CODE.match(code) for code in codes)
    return codes


def test_create_recovery_codes_then_sign_in_with_one(
    person, enrolled_member, sms_inbox, email_inbox
):
    ada = enrolled_member(email="ada@example.com")
    page = signed_in(person, ada)
    person.context.grant_permissions(["clipboard-read", "clipboard-write"])
    codes = create_codes(person, page)
    person.check("settings-recovery-codes")

    page.get_by_role("button", name="Copy codes").click()
    expect(page.locator("#copy-status")).to_have_text("Codes copied. Paste them somewhere safe.")
    assert page.evaluate("navigator.clipboard.readText()").split() == codes

    with page.expect_download() as download:
        page.get_by_role("button", name="Download as text").click()
    assert download.value.suggested_filename == "backstage-recovery-codes.txt"
    saved = Path(download.value.path()).read_text()
    assert all(code in saved for code in codes)

    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("You have 10 unused recovery codes")).to_be_visible()
    expect(page.get_by_role("button", name="Create new recovery codes")).to_be_visible()
    person.check("settings-recovery")
    assert "Recovery codes were created" in email_inbox.last_to("ada@example.com")["Subject"]
    sign_out(page)

    # The phone is out of reach: a recovery code instead of the text message.
    sign_in(person, "ada@example.com")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_role("link", name="Use a recovery code").click()
    expect(page.get_by_role("heading", name="Use a recovery code")).to_be_visible()
    person.check("signin-recovery")
    page.get_by_label(label("Recovery code")).fill("aaaaa-aaaaa")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".errorlist")).to_contain_text("That recovery code isn't right")
    person.check("signin-recovery-wrong")
    page.get_by_label(label("Recovery code")).fill(codes[0].upper())
    page.get_by_role("button", name="Continue").click()
    expect_home(page, "Ada")
    expect(page.get_by_role("status")).to_contain_text("You used a recovery code: 9 are left.")
    used = email_inbox.last_to("ada@example.com")
    assert used["Subject"] == "A recovery code was used to sign in to your Backstage account"
    assert "You have 9 recovery codes left." in used.get_body(("plain",)).get_content()


def test_codes_download_without_javascript(open_browser, enrolled_member):
    person = open_browser(javascript=False, width=375)
    ada = enrolled_member(email="ada@example.com")
    page = signed_in(person, ada)
    codes = create_codes(person, page)
    # Copying needs a script: without one the button is not there, and the download works.
    expect(page.get_by_role("button", name="Copy codes")).to_be_hidden()
    person.check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as text").click()
    saved = Path(download.value.path()).read_text()
    assert all(code in saved for code in codes)


def test_staff_on_a_remembered_browser_reach_django_admin_with_a_recovery_code(
    person, enrolled_member, sms_inbox, email_inbox, clock
):
    sam = enrolled_member(email="sam@example.com", full_name="Sam Support", is_staff=True,
                          is_superuser=True)
    codes = recovery_codes_create(user=sam, ip=None, user_agent="")
    page = sign_in(person, "sam@example.com")
    enter_code(person, sms_inbox, remember=True)
    sign_out(page)

    # Remembered: the password alone signs in. Sam's phone is lost since: Django admin asks
    # for a second factor, and a recovery code is one of the ways.
    clock.advance(minutes=5)
    sign_in(person, "sam@example.com")
    person.goto("/admin/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    person.check("admin-step-up-with-recovery-codes")
    page.get_by_role("link", name="Use a recovery code").click()
    expect(page.get_by_role("heading", name="Use a recovery code")).to_be_visible()
    expect(page.get_by_role("button", name="Send a code by text message instead")).to_be_visible()
    person.check("admin-step-up-recovery")

    page.get_by_label(label("Recovery code")).fill("aaaaa-aaaaa")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".errorlist")).to_contain_text("That recovery code isn't right")
    person.check("admin-step-up-recovery-wrong")
    page.get_by_label(label("Recovery code")).fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.get_by_text("You used a recovery code: 9 are left.")).to_be_visible()
    assert len(sms_inbox.messages()) == 1  # the first sign-in's code only
    used = email_inbox.last_to("sam@example.com")
    # As the mail file folds a long header: the words, not the line breaks.
    assert " ".join(used["Subject"].split()) == (
        "A recovery code was used to open Django admin from your Backstage account"
    )
