"""Passkeys in a real browser: Chromium's virtual authenticator (Chrome DevTools Protocol,
WebAuthn domain) stands in for the fingerprint reader. A passkey is added in personal
settings, then used after the password, then on its own with no password, and for the
step-up before Django admin from a remembered browser.

The live server is http://localhost:<port>, and SITE_URL follows it (conftest), so the RP
ID is "localhost": WebAuthn allows plain http there, as a secure context.
"""

import threading
import time

import pytest
from playwright.sync_api import expect

import mfa.passkey_views
import mfa.views
from accounts.models import SecurityEvent
from mfa.models import PasskeyDevice
from tests.browser.steps import (
    confirm_password,
    enter_code,
    expect_home,
    label,
    sign_in,
    sign_out,
    signed_in,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def add_virtual_authenticator(person) -> dict:
    """A platform authenticator that holds discoverable passkeys and verifies the person at
    once (as a fingerprint reader would), for this browser's page."""
    cdp = person.context.new_cdp_session(person.page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return {"cdp": cdp, "id": added["authenticatorId"]}


# The virtual authenticator answers the sign-in page's autofill request (conditional
# mediation) at once, where a person would first pick the passkey from the email field's
# suggestions: this browser says it has no autofill, so that the buttons are what is tested.
# The last test checks the autofill itself.
NO_AUTOFILL = """
if (window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}
"""


def test_add_a_passkey_then_sign_in_with_it_after_the_password_and_without(
    person, enrolled_member, sms_inbox, email_inbox
):
    ada = enrolled_member(email="ada@example.com")
    person.context.add_init_script(NO_AUTOFILL)
    virtual = add_virtual_authenticator(person)
    page = signed_in(person, ada)

    person.goto("/settings/")
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    expect(page.get_by_text("This browser can't add passkeys.")).to_be_hidden()
    person.check()
    # The session's password is not fresh: Confirm your password first, then back here.
    page.get_by_role("button", name="Add a passkey").click()
    confirm_password(person, check=None)
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    page.get_by_role("button", name="Add a passkey").click()

    # The browser's dialog (answered by the virtual authenticator), then a name for it.
    expect(page.get_by_role("heading", name="Name your passkey")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Passkey added.")
    name = page.get_by_label("Name")
    expect(name).to_have_value("Chrome on Linux")
    person.check("settings-passkey-name")
    name.fill("This laptop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="This laptop", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Remove This laptop")).to_be_visible()
    person.check("settings-passkeys")
    assert "A passkey was added" in email_inbox.last_to("ada@example.com")["Subject"]
    credentials = virtual["cdp"].send(
        "WebAuthn.getCredentials", {"authenticatorId": virtual["id"]}
    )["credentials"]
    assert len(credentials) == 1
    assert credentials[0]["isResidentCredential"] is True
    sign_out(page)

    # The password, then the passkey instead of a code.
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    person.check("signin-with-passkey")
    sign_in(person, "ada@example.com")
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    expect(page.get_by_text("This browser can't use passkeys.")).to_be_hidden()
    expect(
        page.get_by_role("button", name="Send a code by text message instead")
    ).to_be_visible()
    person.check("signin-passkey")
    page.get_by_role("button", name="Use your passkey").click()
    expect_home(page, "Ada")
    assert sms_inbox.messages() == []
    sign_out(page)

    # No password at all: the passkey is both factors.
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect_home(page, "Ada")
    assert sms_inbox.messages() == []
    methods = list(
        SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNIN_SUCCEEDED)
        .order_by("created_at", "id")
        .values_list("detail__method", flat=True)
    )
    assert methods == ["passkey", "passwordless"]
    assert PasskeyDevice.objects.get().last_used_at is not None


def test_the_email_field_offers_the_passkey_through_autofill(
    person, open_browser, enrolled_member
):
    ada = enrolled_member(email="ada@example.com")
    first = add_virtual_authenticator(person)
    signed_in(person, ada)
    person.goto("/settings/")
    person.page.get_by_role("button", name="Add a passkey").click()
    confirm_password(person, check=None)
    person.page.get_by_role("button", name="Add a passkey").click()
    expect(person.page.get_by_role("heading", name="Name your passkey")).to_be_visible()
    [credential] = first["cdp"].send(
        "WebAuthn.getCredentials", {"authenticatorId": first["id"]}
    )["credentials"]

    # Another browser whose authenticator holds the same passkey (synced, say): on the
    # sign-in page the browser offers it at once, and taking it signs in.
    other = open_browser()
    virtual = add_virtual_authenticator(other)
    virtual["cdp"].send(
        "WebAuthn.addCredential", {"authenticatorId": virtual["id"], "credential": credential}
    )
    other.goto("/signin/")
    expect_home(other.page, "Ada")
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNIN_SUCCEEDED).first()
    assert event.detail["method"] == "passwordless"


def test_a_late_answer_to_the_autofill_does_not_undo_the_password_step(
    person, enrolled_member, sms_inbox, monkeypatch
):
    """The sign-in page asks for the autofill's options as it loads, and that request, the
    browser's first with a session, writes one (it keeps the challenge). The person signs in
    with the password meanwhile, which starts a session of its own. Held here until the
    password step has answered, as a busy server may, the options' answer would then
    replace the browser's session cookie with its own, ending the sign-in at the code step
    ("Your sign-in timed out"). Submitting the password form cancels that request."""
    enrolled_member(email="ada@example.com")
    asked, password_answered, options_answered = (threading.Event() for _ in range(3))
    real_options, real_pending = mfa.passkey_views.authentication_options, mfa.views.signin_pending

    def held_options(**kwargs):
        asked.set()
        password_answered.wait(10)
        try:
            return real_options(**kwargs)
        finally:
            options_answered.set()

    def code_step_after_the_options(request, **kwargs):
        # The code step comes once the password step's answer reached the browser.
        if not password_answered.is_set():
            password_answered.set()
            options_answered.wait(10)
            time.sleep(0.5)  # for the options' answer, if it is still awaited, to arrive
        return real_pending(request, **kwargs)

    monkeypatch.setattr(mfa.passkey_views, "authentication_options", held_options)
    monkeypatch.setattr(mfa.views, "signin_pending", code_step_after_the_options)
    page = person.page
    person.goto("/signin/")
    assert asked.wait(10), "the sign-in page asked for no autofill options"
    page.get_by_label(label("Email")).fill("ada@example.com")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    enter_code(person, sms_inbox, remember=False)
    expect_home(page, "Ada")


def test_without_javascript_the_passkey_buttons_are_not_shown(
    open_browser, enrolled_member, sms_inbox, settings
):
    ada = enrolled_member(email="ada@example.com")
    PasskeyDevice.objects.create(
        user=ada, name="Phone", credential_id="AAAA", public_key=b"", user_handle="AAAA"
    )
    person = open_browser(javascript=False)
    page = sign_in(person, "ada@example.com")
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    expect(page.get_by_role("button", name="Use your passkey")).to_be_hidden()
    expect(page.get_by_text("This browser can't use passkeys.")).to_be_visible()
    person.check()
    # Every other way still works: a code by text message.
    page.get_by_role("button", name="Send a code by text message instead").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert len(sms_inbox.messages()) == 1


def test_the_sign_in_page_without_javascript_offers_no_passkey(open_browser, db):
    person = open_browser(javascript=False)
    person.goto("/signin/")
    expect(person.page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(person.page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()


# The step-up before Django admin, from a remembered browser -------------------------------


def add_passkey_in_settings(person) -> None:
    """Personal settings' Add a passkey (after Confirm your password), named as offered."""
    page = person.page
    person.goto("/settings/")
    page.get_by_role("button", name="Add a passkey").click()
    confirm_password(person, check=None)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Name your passkey")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()


def test_staff_on_a_remembered_browser_reach_django_admin_with_their_passkey(
    person, enrolled_member, sms_inbox, clock
):
    sam = enrolled_member(email="sam@example.com", full_name="Sam Support", is_staff=True,
                          is_superuser=True)
    person.context.add_init_script(NO_AUTOFILL)
    authenticator = add_virtual_authenticator(person)
    page = signed_in(person, sam)
    add_passkey_in_settings(person)
    sign_out(page)

    # The password and the passkey, remembering this browser.
    sign_in(person, "sam@example.com")
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    page.get_by_label("Remember me for 14 days").check()
    page.get_by_role("button", name="Use your passkey").click()
    expect_home(page, "Sam")
    sign_out(page)

    # Remembered: the password alone signs in, and Django admin asks for the passkey.
    clock.advance(minutes=5)
    sign_in(person, "sam@example.com")
    expect_home(page, "Sam")
    person.goto("/admin/")
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    expect(page.get_by_text("Django admin needs a second factor in this session")).to_be_visible()
    expect(page.get_by_text("This browser can't use passkeys.")).to_be_hidden()
    expect(
        page.get_by_role("button", name="Send a code by text message instead")
    ).to_be_visible()
    person.check("admin-step-up-passkey")

    # A passkey answer that the server refuses (a bad signature): the page again, saying so.
    authenticator["cdp"].send("WebAuthn.setResponseOverrideBits", {
        "authenticatorId": authenticator["id"], "isBogusSignature": True,
    })
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    person.check("admin-step-up-passkey-refused")
    authenticator["cdp"].send("WebAuthn.setResponseOverrideBits", {
        "authenticatorId": authenticator["id"], "isBogusSignature": False,
    })

    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert sms_inbox.messages() == []
    assert PasskeyDevice.objects.get(user=sam).sign_count >= 2


def test_without_javascript_the_step_up_offers_the_text_message(
    open_browser, enrolled_member, sms_inbox, clock
):
    sam = enrolled_member(email="sam@example.com", full_name="Sam Support", is_staff=True,
                          is_superuser=True)
    PasskeyDevice.objects.create(
        user=sam, name="Phone", credential_id="AAAA", public_key=b"", user_handle="AAAA"
    )
    person = open_browser(javascript=False)
    page = sign_in(person, "sam@example.com")
    page.get_by_role("button", name="Send a code by text message instead").click()
    enter_code(person, sms_inbox, remember=True)
    expect_home(page, "Sam")
    sign_out(page)

    clock.advance(minutes=5)
    sign_in(person, "sam@example.com")
    person.goto("/admin/")
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    expect(page.get_by_role("button", name="Use your passkey")).to_be_hidden()
    expect(page.get_by_text("This browser can't use passkeys. Choose another way below.")
           ).to_be_visible()
    person.check()
    page.get_by_role("button", name="Send a code by text message instead").click()
    expect(page.get_by_text("We sent a 6-digit code by text message")).to_be_visible()
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
