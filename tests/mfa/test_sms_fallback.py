"""Choosing the strength: a member with an authenticator app may turn off the text-message
fallback, so that someone with their password can no longer choose SMS; the phone stays on
file for an admin's reset, and SMS comes back if the app goes."""

import pytest

from accounts.models import SecurityEvent
from mfa import sms
from mfa.factors import strong_factor_set_up
from mfa.models import SmsDevice
from mfa.recovery import recovery_codes_create
from tests.helpers import page, signed_in

SETTINGS = "/settings/"
FALLBACK = "/settings/phone/fallback/"
APP_PAGE = "/signin/app/"
APP_SMS = "/signin/app/sms/"
CODE_PAGE = "/signin/code/"
RESEND = "/signin/code/resend/"
TURNED_OFF = "You turned off codes by text message for signing in."
Kind = SecurityEvent.Kind


@pytest.fixture
def ada(enrolled_member, add_authenticator):
    """Ada, with the phone +41 79 123 45 67 and an authenticator app."""
    user = enrolled_member()
    add_authenticator(user)
    return user


def fallback_off(user):
    client = signed_in(user, method="totp", password_just_given=True)
    return client.post(FALLBACK, {"sms_fallback": "off"})


def test_the_app_is_a_strong_factor_and_the_phone_is_not(enrolled_member, add_authenticator):
    ada = enrolled_member()
    assert strong_factor_set_up(ada) is False
    add_authenticator(ada)
    assert strong_factor_set_up(ada) is True


def test_settings_offer_the_switch_only_with_an_app(enrolled_member, add_authenticator):
    ada = enrolled_member()
    assert "text message fallback" not in page(signed_in(ada).get(SETTINGS))
    add_authenticator(ada)
    text = page(signed_in(ada).get(SETTINGS))
    assert f'action="{FALLBACK}"' in text
    assert '<button type="submit">Turn off the text message fallback</button>' in text


def test_member_without_an_app_cannot_turn_it_off(enrolled_member, sign_in, client):
    ada = enrolled_member()
    client = signed_in(ada, password_just_given=True)
    response = client.post(FALLBACK, {"sms_fallback": "off"}, follow=True)
    assert "Set up an authenticator app first" in page(response)
    assert SmsDevice.objects.get(user=ada).sms_fallback is True
    assert sign_in()["Location"] == CODE_PAGE
    assert len(sms.outbox) == 1


def test_turning_it_off_hides_and_refuses_text_messages(ada, sign_in, client):
    response = fallback_off(ada)
    assert response["Location"] == SETTINGS
    settings_page = page(signed_in(ada).get(SETTINGS))
    assert "Signing in never sends a code by text message" in settings_page
    assert '<button type="submit">Turn on the text message fallback</button>' in settings_page
    assert SecurityEvent.objects.filter(kind=Kind.SMS_FALLBACK_OFF, subject=ada).exists()
    # The phone stays on file, for an admin's reset.
    assert SmsDevice.objects.on_file().filter(user=ada).exists()

    assert sign_in()["Location"] == APP_PAGE
    assert "Send a code by text message instead" not in page(client.get(APP_PAGE))
    for response in (client.post(APP_SMS), client.get(CODE_PAGE), client.post(RESEND),
                     client.post(CODE_PAGE, {"code": "123456"})):
        assert response["Location"] == APP_PAGE
    assert sms.outbox == []
    assert TURNED_OFF in page(client.get(APP_PAGE))
    assert "_auth_user_id" not in client.session


def test_with_it_off_the_app_and_recovery_codes_still_sign_in(ada, sign_in, client, app_code):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    [code, *_] = recovery_codes_create(user=ada, ip=None, user_agent="")
    fallback_off(ada)
    sign_in()
    assert client.post("/signin/recovery/", {"code": code})["Location"] == "/"
    client.post("/signout/")
    sign_in()
    device = TOTPDevice.objects.get(user=ada)
    assert client.post(APP_PAGE, {"code": app_code(device)})["Location"] == "/"


def test_turning_it_on_again_brings_text_messages_back(ada, sign_in, client):
    fallback_off(ada)
    response = signed_in(ada, password_just_given=True).post(FALLBACK, {"sms_fallback": "on"})
    assert response["Location"] == SETTINGS
    assert SecurityEvent.objects.filter(kind=Kind.SMS_FALLBACK_ON, subject=ada).exists()
    sign_in()
    assert "Send a code by text message instead" in page(client.get(APP_PAGE))
    assert client.post(APP_SMS)["Location"] == CODE_PAGE
    assert len(sms.outbox) == 1


def test_removing_the_app_brings_text_messages_back(ada, sign_in, client):
    fallback_off(ada)
    settings_client = signed_in(ada, method="totp", password_just_given=True)
    settings_client.post("/settings/authenticator/remove/")
    assert sign_in()["Location"] == CODE_PAGE
    assert len(sms.outbox) == 1
    assert client.get(CODE_PAGE).status_code == 200


def test_anonymous_person_cannot_change_it(client, db):
    assert client.post(FALLBACK, {"sms_fallback": "off"})["Location"] == (
        f"/signin/?next={FALLBACK}"
    )


def test_switch_is_post_only(ada):
    assert signed_in(ada).get(FALLBACK).status_code == 405


def test_admin_reset_still_works_with_it_off_and_turns_it_back_on(
    enrolled_member, ada, sign_in, client
):
    from organizations.models import Membership

    grace = enrolled_member("grace@example.com", role=Membership.Role.ADMIN,
                            number="+41791110000")
    fallback_off(ada)
    signed_in(grace).post(f"/organizations/acme-events/members/{ada.pk}/phone/remove/")
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert sign_in()["Location"] == "/signin/phone/"
    client.post("/signin/phone/", {"country": "CH", "number": "079 123 45 68"})
    assert SmsDevice.objects.get(user=ada).sms_fallback is True


def test_turning_it_off_asks_for_the_password_again_when_it_is_not_fresh(ada):
    response = signed_in(ada, method="totp").post(FALLBACK, {"sms_fallback": "off"})
    assert response["Location"].startswith("/settings/confirm-password/")
    assert not SecurityEvent.objects.filter(kind=Kind.SMS_FALLBACK_OFF, subject=ada).exists()
