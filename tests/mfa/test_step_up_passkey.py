"""The step-up before Django admin with a passkey: staff whose remembered browser signed them
in with the password alone are offered "Use your passkey" first, with the app and a text
message as the other ways. Answered by the software authenticator (tests.webauthn_authenticator)."""

import json

import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import SecurityEvent
from mfa import sms
from mfa.models import PasskeyDevice, SmsDevice
from mfa.passkeys import PasskeyError, authentication_options, passkey_authenticate
from tests.helpers import page, page_html, signed_in
from tests.mfa.test_passkeys import add_passkey, options
from tests.webauthn_authenticator import SoftAuthenticator

STEP_UP = "/signin/step-up/?next=/admin/"
STEP_UP_OPTIONS = "/signin/step-up/passkey/options/"
NOT_ONE_OF_YOURS = "This passkey isn't one of the passkeys of your Backstage account."
NOT_CHECKED = "Your passkey couldn't be checked, so it wasn't accepted. Try again."
EXPIRED = "This passkey request has expired or was already used. Try again."


@pytest.fixture
def authenticator():
    return SoftAuthenticator()


def passkey_added(user, authenticator) -> PasskeyDevice:
    """A passkey on `authenticator` for `user`, added in personal settings."""
    return add_passkey(signed_in(user, password_just_given=True), authenticator)


@pytest.fixture
def staff(enrolled_member, authenticator):
    """Sam, support staff with a phone and a passkey."""
    user = enrolled_member(email="sam@example.com", is_staff=True, is_superuser=True)
    passkey_added(user, authenticator)
    return user


@pytest.fixture
def remembered(staff):
    """Sam's browser, signed in by a remembered browser: the password alone."""
    return signed_in(staff, method="remembered")


def step_up_with_passkey(client, authenticator, **answer):
    credential = authenticator.get(options(client, STEP_UP_OPTIONS), **answer)
    return client.post(STEP_UP, {"credential": credential})


def test_a_remembered_browser_steps_up_to_admin_with_the_passkey(
    staff, client, sign_in, last_code, clock, authenticator
):
    # Sam signs in with the password and the code, remembering the browser, then again.
    assert sign_in(email="sam@example.com")["Location"] == "/signin/passkey/"
    client.post("/signin/app/sms/")
    client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    client.post("/signout/")
    sms.outbox.clear()
    clock.advance(minutes=5)
    assert sign_in(email="sam@example.com", next="/admin/")["Location"] == "/admin/"

    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/signin/step-up/?next=%2Fadmin%2F"
    html = page_html(response)
    assert "<h1>Use your passkey</h1>" in html
    assert ">Use your passkey</button>" in html
    # The passkey first; a text message only if Sam asks for one.
    assert html.index("Use your passkey") < html.index("Send a code by text message instead")
    assert sms.outbox == []

    offered = options(client, STEP_UP_OPTIONS)
    assert offered["rpId"] == "testserver"
    assert offered["userVerification"] == "preferred"  # as the sign-in's passkey step
    assert [item["id"] for item in offered["allowCredentials"]] == [
        authenticator.credentials[0].id_b64
    ]
    response = client.post(STEP_UP, {"credential": authenticator.get(offered)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    device = PasskeyDevice.objects.get()
    assert (device.sign_count, device.last_used_at is not None) == (1, True)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert sms.outbox == []


def test_without_javascript_the_passkey_stays_hidden_and_the_text_message_works(
    remembered, last_code
):
    html = page_html(remembered.get(STEP_UP))
    form = html[html.index('data-passkey="get"') : html.index(">Use your passkey</button>")]
    assert "data-passkey-show hidden" in form  # shown by passkeys.js after its feature check
    assert "js/passkeys.js" in html
    assert "This browser can't use passkeys. Choose another way below." in page(
        remembered.get(STEP_UP)
    )
    response = remembered.post("/signin/step-up/sms/", {"next": "/admin/"}, follow=True)
    assert "We sent a 6-digit code by text message" in page(response)
    assert "Use your passkey instead" in page(response)
    assert remembered.post(STEP_UP, {"code": last_code()})["Location"] == "/admin/"
    assert remembered.get("/admin/").status_code == 200


def test_another_members_passkey_is_refused(remembered, enrolled_member):
    grace = enrolled_member(email="grace@example.com", number="+41791234568")
    graces = SoftAuthenticator()
    passkey_added(grace, graces)
    offered = options(remembered, STEP_UP_OPTIONS)
    assert graces.credentials[0].id_b64 not in {item["id"] for item in offered["allowCredentials"]}
    # Grace's passkey signs Sam's challenge.
    answer = graces.get(offered, credential=graces.credentials[0])
    response = remembered.post(STEP_UP, {"credential": answer})
    assert NOT_ONE_OF_YOURS in page(response)
    assert remembered.get("/admin/").status_code == 302
    assert PasskeyDevice.objects.get(user=grace).sign_count == 0


def test_a_challenge_answers_once(remembered, authenticator):
    offered = options(remembered, STEP_UP_OPTIONS)
    wrong = authenticator.get(offered, origin="https://evil.example")
    assert NOT_CHECKED in page(remembered.post(STEP_UP, {"credential": wrong}))
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PASSKEY_FAILED)
    assert event.detail["reason"] == "invalid"
    # The same challenge, now rightly signed: it was spent on the wrong answer.
    response = remembered.post(STEP_UP, {"credential": authenticator.get(offered)})
    assert EXPIRED in page(response)
    assert remembered.get("/admin/").status_code == 302


def test_a_replayed_answer_does_not_step_up_another_session(staff, remembered, authenticator):
    answer = authenticator.get(options(remembered, STEP_UP_OPTIONS))
    assert remembered.post(STEP_UP, {"credential": answer})["Location"] == "/admin/"
    # Sam's other remembered browser, with its own challenge: the old answer is worthless.
    other = signed_in(staff, method="remembered")
    options(other, STEP_UP_OPTIONS)
    assert NOT_CHECKED in page(other.post(STEP_UP, {"credential": answer}))
    # And with no challenge of its own at all.
    third = signed_in(staff, method="remembered")
    assert EXPIRED in page(third.post(STEP_UP, {"credential": answer}))
    assert other.get("/admin/").status_code == third.get("/admin/").status_code == 302


def test_a_sign_in_challenge_does_not_answer_a_step_up(staff, authenticator):
    """Each ceremony's challenge is for its purpose: the step after the password is not
    the step-up of a signed-in session, though both are for the same member."""
    session = {}
    offered = authentication_options(session=session, user=staff)
    with pytest.raises(PasskeyError) as refused:
        passkey_authenticate(
            session=session, credential=authenticator.get(offered), user=staff, step_up=True,
            ip=None, user_agent="",
        )
    assert refused.value.code == "expired"


def test_a_tampered_signature_is_refused_and_recorded(remembered, authenticator):
    answer = json.loads(authenticator.get(options(remembered, STEP_UP_OPTIONS)))
    answer["response"]["signature"] = answer["response"]["signature"][:-4] + "AAAA"
    response = remembered.post(STEP_UP, {"credential": json.dumps(answer)})
    assert NOT_CHECKED in page(response)
    [event] = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSKEY_FAILED)
    assert (event.subject.email, event.detail["reason"]) == ("sam@example.com", "invalid")
    assert remembered.get("/admin/").status_code == 302


def test_a_post_without_an_answer_asks_to_press_the_button_again(remembered):
    response = remembered.post(STEP_UP, {"credential": ""})
    assert "Your browser didn't send a passkey. Press the button again." in page(response)
    assert remembered.get("/admin/").status_code == 302


def test_members_without_a_passkey_are_not_offered_one(
    enrolled_member, add_authenticator, client
):
    sms_only = enrolled_member(email="sam@example.com", is_staff=True)
    html = page(signed_in(sms_only, method="remembered").get(STEP_UP))
    assert "Send a code" in html
    assert "passkey" not in html.lower()

    app_staff = enrolled_member(email="tess@example.com", number="+41791234568", is_staff=True)
    add_authenticator(app_staff)
    browser = signed_in(app_staff, method="remembered")
    for url in (STEP_UP, STEP_UP + "&via=passkey"):
        html = page(browser.get(url))
        assert "Enter the code from your authenticator app" in html
        assert "passkey" not in html.lower()
    # No passkey of theirs to sign with: the options list none, and nothing is accepted.
    assert options(browser, STEP_UP_OPTIONS)["allowCredentials"] == []


def test_with_text_messages_off_a_passkey_alone_is_offered_and_works(
    staff, remembered, authenticator
):
    SmsDevice.objects.filter(user=staff).update(sms_fallback=False)
    html = page(remembered.get(STEP_UP))
    assert "<h1>Use your passkey</h1>" in html
    assert "Send a code by text message instead" not in html
    assert "Use your authenticator app instead" not in html
    # Without JavaScript there is no other way here: say where it works.
    assert "This browser can't use passkeys. Open Django admin in a browser that can." in html
    assert step_up_with_passkey(remembered, authenticator)["Location"] == "/admin/"
    assert remembered.get("/admin/").status_code == 200
    assert sms.outbox == []


def test_the_app_and_the_passkey_lead_to_each_other(
    staff, remembered, authenticator, add_authenticator, app_code
):
    app = add_authenticator(staff)
    html = page(remembered.get(STEP_UP))
    assert "<h1>Use your passkey</h1>" in html
    assert "Use your authenticator app instead" in html
    html = page(remembered.get(STEP_UP + "&via=totp"))
    assert "Enter the code from your authenticator app" in html
    assert "Use your passkey instead" in html
    # The choice holds for the form, whose address has no ?via=.
    assert remembered.post(STEP_UP, {"code": app_code(app)})["Location"] == "/admin/"


def test_back_from_a_text_message_to_the_passkey(remembered, authenticator):
    remembered.post("/signin/step-up/sms/", {"next": "/admin/"})
    assert "We sent a 6-digit code" in page(remembered.get(STEP_UP))
    assert "<h1>Use your passkey</h1>" in page(remembered.get(STEP_UP + "&via=passkey"))
    assert "<h1>Use your passkey</h1>" in page(remembered.get(STEP_UP))  # the choice holds
    assert step_up_with_passkey(remembered, authenticator)["Location"] == "/admin/"
    assert len(sms.outbox) == 1


def test_a_chosen_text_message_keeps_its_code_after_a_look_at_the_passkey(
    remembered, last_code
):
    remembered.post("/signin/step-up/sms/", {"next": "/admin/"})
    remembered.get(STEP_UP + "&via=passkey")
    # "Send a code by text message instead" again: within the cooldown, the code sent
    # before is for the same attempt and still works.
    remembered.post("/signin/step-up/sms/", {"next": "/admin/"})
    assert remembered.post(STEP_UP, {"code": last_code()})["Location"] == "/admin/"


def test_the_step_up_goes_only_to_a_safe_next(remembered, authenticator):
    url = "/signin/step-up/?next=https://evil.example/"
    credential = authenticator.get(options(remembered, STEP_UP_OPTIONS))
    assert remembered.post(url, {"credential": credential})["Location"] == "/admin/"


def test_the_step_up_needs_a_signed_in_session(staff, client):
    for response in (
        client.post(STEP_UP_OPTIONS),
        client.post(STEP_UP, {"credential": "{}"}),
    ):
        assert response["Location"].startswith("/signin/?next=")
    assert signed_in(staff, method="remembered").get(STEP_UP_OPTIONS).status_code == 405


def test_what_the_passkey_step_up_costs(remembered, authenticator, django_assert_num_queries):
    # 6: the session, the member, "has a passkey?", the app, the phone and the page's
    # memberships (the menu); the first visit also stores the way asked for (the session's
    # UPDATE), the next ones do not.
    with django_assert_num_queries(6 + 1):
        assert remembered.get(STEP_UP).status_code == 200
    with django_assert_num_queries(6):
        assert remembered.get(STEP_UP).status_code == 200
    credential = authenticator.get(options(remembered, STEP_UP_OPTIONS))
    # 5: the session, the member and the three above (no page to render); the passkey
    # read under its row lock and moved on (2, in a transaction: here a savepoint pair);
    # and the session saved with the second factor (1).
    with django_assert_num_queries(5 + 2 + 2 + 1):
        assert remembered.post(STEP_UP, {"credential": credential})["Location"] == "/admin/"


def test_a_passkey_removed_meanwhile_leaves_the_other_ways(staff, remembered):
    assert "<h1>Use your passkey</h1>" in page(remembered.get(STEP_UP))
    PasskeyDevice.objects.filter(user=staff).delete()
    html = page(remembered.get(STEP_UP))
    assert "Send a code" in html
    assert "passkey" not in html.lower()


def test_with_text_messages_off_and_recovery_codes_the_passkey_step_up_points_below(
    staff, remembered, authenticator
):
    # No text message and no app, but unused recovery codes: a browser that can't use
    # passkeys has "Use a recovery code" below, so it is not told to go elsewhere.
    from mfa.recovery import recovery_codes_create

    SmsDevice.objects.filter(user=staff).update(sms_fallback=False)
    recovery_codes_create(user=staff, ip=None, user_agent="")
    html = page(remembered.get(STEP_UP))
    assert "<h1>Use your passkey</h1>" in html
    assert "Use a recovery code" in html
    assert "This browser can't use passkeys. Choose another way below." in html
    assert "Open Django admin in a browser that can" not in html
