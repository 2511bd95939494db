"""The authenticator app at sign-in: its step, codes used once, throttling, the text-message
fallback, and what an admin's phone reset does to it (SECURITY 11-14, 28, 44)."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from accounts.signin import METHOD_KEY
from mfa import sms
from organizations.models import Membership
from tests.helpers import page_html as page
from tests.helpers import signed_in

APP_PAGE = "/signin/app/"
APP_SMS = "/signin/app/sms/"
CODE_PAGE = "/signin/code/"


@pytest.fixture
def ada(enrolled_member, add_authenticator):
    """Ada, with the phone +41 79 123 45 67 and an authenticator app."""
    user = enrolled_member()
    add_authenticator(user)
    return user


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user)


def enter_app_code(client, code, remember=False):
    data = {"code": code}
    if remember:
        data["remember"] = "on"
    return client.post(APP_PAGE, data)


def failed_codes(user) -> list[str]:
    return [
        event.detail.get("reason")
        for event in SecurityEvent.objects.filter(
            kind=SecurityEvent.Kind.CODE_FAILED, subject=user
        ).order_by("pk")
    ]


# The step -----------------------------------------------------------------------------------


def test_member_with_an_app_is_asked_for_its_code_and_sent_no_text_message(ada, sign_in, client):
    assert sign_in()["Location"] == APP_PAGE
    assert sms.outbox == []
    text = page(client.get(APP_PAGE))
    assert "<h1>Enter the code from your authenticator app</h1>" in text
    assert "Remember me for 14 days" in text
    assert ">Continue</button>" in text
    assert "Send a code by text message instead</button>" in text
    assert f'action="{APP_SMS}"' in text
    assert 'autocomplete="one-time-code"' in text


def test_right_app_code_signs_in_and_rotates_the_session_key(ada, sign_in, client, app_code):
    sign_in()
    before = client.session.session_key
    assert enter_app_code(client, app_code(device_of(ada)))["Location"] == "/"
    assert client.session.session_key != before
    assert client.session[METHOD_KEY] == "totp"
    assert client.session[DEVICE_ID_SESSION_KEY] == device_of(ada).persistent_id
    assert client.get("/").status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SIGNIN_SUCCEEDED)
    assert (event.subject, event.detail["method"]) == (ada, "totp")


def test_code_with_spaces_is_accepted(ada, sign_in, client, app_code):
    sign_in()
    code = app_code(device_of(ada))
    assert enter_app_code(client, f"{code[:3]} {code[3:]}")["Location"] == "/"


def test_next_survives_the_app_step(ada, sign_in, client, app_code):
    sign_in(next="/settings/")
    assert enter_app_code(client, app_code(device_of(ada)))["Location"] == "/settings/"


def test_off_site_next_is_not_followed_after_the_app_step(ada, sign_in, client, app_code):
    sign_in(next="https://evil.example/")
    assert enter_app_code(client, app_code(device_of(ada)))["Location"] == "/"


def test_code_one_step_early_or_late_is_accepted(ada, sign_in, client, app_code):
    sign_in()
    assert enter_app_code(client, app_code(device_of(ada), steps=-1))["Location"] == "/"
    other = Client()
    sign_in(client=other)
    assert enter_app_code(other, app_code(device_of(ada), steps=1))["Location"] == "/"


def test_code_two_steps_away_is_refused(ada, sign_in, client, app_code):
    sign_in()
    response = enter_app_code(client, app_code(device_of(ada), steps=-2))
    assert "That code isn&#x27;t right." in page(response)
    assert "_auth_user_id" not in client.session


def test_remember_me_on_the_app_step_skips_it_next_time(ada, sign_in, client, app_code):
    sign_in()
    enter_app_code(client, app_code(device_of(ada)), remember=True)
    client.post("/signout/")
    assert sign_in()["Location"] == "/"
    assert client.session[METHOD_KEY] == "remembered"


def test_staff_reach_admin_after_password_and_app_code(
    enrolled_member, add_authenticator, sign_in, client, app_code
):
    staff = enrolled_member(is_staff=True, is_superuser=True)
    device = add_authenticator(staff)
    assert sign_in(next="/admin/")["Location"] == APP_PAGE
    assert enter_app_code(client, app_code(device))["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# Refused codes ------------------------------------------------------------------------------


def test_the_same_code_twice_is_refused(ada, sign_in, client, app_code):
    code = app_code(device_of(ada))
    sign_in()
    assert enter_app_code(client, code)["Location"] == "/"
    # Someone who saw the code, a moment later in another browser.
    other = Client()
    sign_in(client=other)
    response = enter_app_code(other, code)
    assert "This code was already used." in page(response)
    assert "_auth_user_id" not in other.session
    assert failed_codes(ada) == ["reused"]


def test_wrong_code_is_refused_and_recorded(ada, sign_in, client, wrong_app_code):
    sign_in()
    response = enter_app_code(client, wrong_app_code(device_of(ada)))
    assert response.status_code == 200
    assert "That code isn&#x27;t right." in page(response)
    assert "_auth_user_id" not in client.session
    assert failed_codes(ada) == ["wrong"]


@pytest.mark.parametrize(
    ("code", "message", "recorded"),
    [
        ("", "Enter the code from your authenticator app.", []),
        ("12345", "The code is 6 digits", ["format"]),
        ("1234567", "The code is 6 digits", ["format"]),
        ("12a456", "The code is 6 digits", ["format"]),
        ("abcdef", "The code is 6 digits", ["format"]),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "The code is 6 digits", ["format"]),  # fullwidth
        ("1e5", "The code is 6 digits", ["format"]),
        ("x" * 5000, "at most 20 characters", ["format"]),
    ],
)
def test_malformed_codes_get_a_clear_message_and_are_recorded(
    ada, sign_in, client, code, message, recorded
):
    sign_in()
    response = enter_app_code(client, code)
    assert response.status_code == 200
    assert message in page(response)
    assert "_auth_user_id" not in client.session
    assert failed_codes(ada) == recorded


def test_wrong_codes_are_throttled(ada, sign_in, client, app_code, wrong_app_code, clock):
    sign_in()
    device = device_of(ada)
    for _ in range(3):
        enter_app_code(client, wrong_app_code(device))
        clock.advance(seconds=5)  # more than each back-off so far: 1, 2, then 4 seconds
    enter_app_code(client, wrong_app_code(device))
    assert device_of(ada).throttling_failure_count == 4
    # Right after the fourth failure, even the right code waits out the back-off (8 s).
    response = enter_app_code(client, app_code(device))
    assert "Too many wrong codes. Wait 9 seconds, then try again." in page(response)
    assert "_auth_user_id" not in client.session
    assert failed_codes(ada) == ["wrong"] * 4 + ["throttled"]
    clock.advance(seconds=8)
    assert enter_app_code(client, app_code(device))["Location"] == "/"
    assert device_of(ada).throttling_failure_count == 0


# Text me instead ----------------------------------------------------------------------------


def test_text_me_instead_sends_a_code_and_the_sms_step_signs_in(
    ada, sign_in, client, last_code
):
    sign_in()
    assert client.post(APP_SMS)["Location"] == CODE_PAGE
    assert [message.to for message in sms.outbox] == ["+41791234567"]
    assert "ending in <strong>67</strong>" in page(client.get(CODE_PAGE))
    assert client.post(CODE_PAGE, {"code": last_code()})["Location"] == "/"
    assert client.session[METHOD_KEY] == "sms"


def test_the_sms_step_leads_back_to_the_app_only_for_members_with_one(
    ada, enrolled_member, sign_in, client
):
    back = 'href="/signin/app/">Use your authenticator app instead</a>'
    sign_in()
    client.post(APP_SMS)
    assert back in page(client.get(CODE_PAGE))

    enrolled_member("grace@example.com", number="+41791110000")
    other = Client()
    sign_in(email="grace@example.com", client=other)
    assert back not in page(other.get(CODE_PAGE))


def test_text_me_instead_keeps_the_resend_cooldown(ada, sign_in, client, clock):
    sign_in()
    client.post(APP_SMS)
    response = client.post(APP_SMS, follow=True)
    assert "A code was just sent. You can ask for another in" in page(response)
    assert len(sms.outbox) == 1
    clock.advance(seconds=31)
    client.post(APP_SMS)
    assert len(sms.outbox) == 2


def test_text_me_instead_is_post_only(ada, sign_in, client):
    sign_in()
    assert client.get(APP_SMS).status_code == 405
    assert sms.outbox == []


# Who reaches the step -----------------------------------------------------------------------


def test_app_step_needs_a_password_first(ada, client):
    assert client.get(APP_PAGE)["Location"] == "/signin/"
    assert client.post(APP_PAGE, {"code": "123456"})["Location"] == "/signin/"
    assert client.post(APP_SMS)["Location"] == "/signin/"
    assert sms.outbox == []


def test_app_step_expires_fifteen_minutes_after_the_password(
    ada, sign_in, client, app_code, clock
):
    sign_in()
    clock.advance(minutes=16)
    assert enter_app_code(client, app_code(device_of(ada)))["Location"] == "/signin/"
    assert "_auth_user_id" not in client.session


def test_member_without_an_app_who_opens_the_app_step_is_sent_to_the_sms_step(
    enrolled_member, sign_in, client
):
    enrolled_member()
    assert sign_in()["Location"] == CODE_PAGE
    assert client.get(APP_PAGE)["Location"] == CODE_PAGE
    assert client.post(APP_PAGE, {"code": "123456"})["Location"] == CODE_PAGE


def test_app_set_up_but_not_confirmed_does_not_change_the_sign_in(
    enrolled_member, sign_in, client
):
    user = enrolled_member()
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    assert sign_in()["Location"] == CODE_PAGE
    assert len(sms.outbox) == 1


def test_new_posts_of_the_app_step_need_the_csrf_token(ada, app_code):
    strict = Client(enforce_csrf_checks=True)
    strict.get("/signin/")
    token = strict.cookies[settings.CSRF_COOKIE_NAME].value
    strict.post("/signin/", {"email": "ada@example.com", "password": "correct horse battery",
                             "csrfmiddlewaretoken": token})
    code = app_code(device_of(ada))
    assert strict.post(APP_PAGE, {"code": code}).status_code == 403
    assert strict.post(APP_SMS).status_code == 403
    assert sms.outbox == []
    assert "_auth_user_id" not in strict.session
    response = strict.post(APP_PAGE, {"code": code, "csrfmiddlewaretoken": token})
    assert response["Location"] == "/"


# An admin's phone reset ---------------------------------------------------------------------


def test_remove_user_phone_removes_the_app_too_and_says_so(
    enrolled_member, add_authenticator, sign_in, client, django_capture_on_commit_callbacks
):
    grace = enrolled_member("grace@example.com", role=Membership.Role.ADMIN,
                            full_name="Grace Hopper", number="+41791110000")
    ada = enrolled_member()
    add_authenticator(ada)
    admin = signed_in(grace)
    confirm = page(admin.get(f"/organizations/acme-events/members/{ada.pk}/phone/remove/"))
    assert (
        "Every second factor of theirs is removed: their phone, and their authenticator app"
        in confirm
    )
    assert '<button type="submit">Remove user phone</button>' in confirm

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/organizations/acme-events/members/{ada.pk}/phone/remove/")

    assert not TOTPDevice.objects.filter(user=ada).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PHONE_REMOVED)
    assert event.detail["authenticator_removed"] is True
    [email] = mail.outbox
    assert email.subject == "The phone and authenticator app of your Backstage account were removed"
    assert "removed the phone\nnumber and the authenticator app" in email.body
    # The next sign-in asks for a new number, not for the app.
    assert sign_in()["Location"] == "/signin/phone/"
    assert client.get(APP_PAGE)["Location"] == CODE_PAGE


def test_remove_user_phone_from_django_admin_removes_the_app_too(
    make_user, enrolled_member, add_authenticator
):
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    ada = enrolled_member()
    add_authenticator(ada)
    signed_in(staff, method="totp").post("/admin/accounts/user/", {
        "action": "remove_user_phone", "_selected_action": [ada.pk], "post": "yes",
    })
    assert not TOTPDevice.objects.filter(user=ada).exists()


def test_phone_reset_email_without_an_app_is_unchanged(
    enrolled_member, django_capture_on_commit_callbacks
):
    grace = enrolled_member("grace@example.com", role=Membership.Role.ADMIN,
                            full_name="Grace Hopper", number="+41791110000")
    ada = enrolled_member()
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(grace).post(f"/organizations/acme-events/members/{ada.pk}/phone/remove/")
    [email] = mail.outbox
    assert email.subject == "The phone of your Backstage account was removed"
    assert "authenticator" not in email.body


# Django admin -------------------------------------------------------------------------------


def test_django_admin_lists_authenticator_apps_but_never_their_key(ada, make_user):
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    admin = signed_in(staff, method="totp")
    device = device_of(ada)
    url = "/admin/otp_totp/totpdevice/"
    assert "ada@example.com" in page(admin.get(url))
    detail = admin.get(f"{url}{device.pk}/change/")
    assert detail.status_code == 200
    assert "Wrong codes in a row" in page(detail)
    # django-otp's own admin has pages with the key and its QR code: not this one.
    for path in ("change/", "config/", "qrcode/"):
        response = admin.get(f"{url}{device.pk}/{path}", follow=True)
        assert response["Content-Type"].startswith("text/html")
        assert device.key not in page(response)
        assert "otpauth://" not in page(response)
    assert admin.get(url + "add/").status_code == 403
    assert admin.post(f"{url}{device.pk}/delete/", {"post": "yes"}).status_code == 403
