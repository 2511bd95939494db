"""Twilio failures during sign-in: a clear message in the page, nothing lost (SPEC "SMS codes")."""

import re
import time

from mfa.models import SmsDevice, SmsMessage

PHONE_PAGE = "/signin/phone/"


def sent_code(twilio) -> str:
    return re.search(r"code is (\d{6})\.", twilio.requests[-1].fields["Body"]).group(1)


def test_enrollment_through_twilio_sends_the_code_to_the_number(
    make_member, sign_in, client, twilio
):
    make_member()
    sign_in()
    client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 67"})
    assert twilio.requests[-1].fields["To"] == "+41791234567"
    assert client.post("/signin/code/", {"code": sent_code(twilio)})["Location"] == "/"
    message = SmsMessage.objects.get()
    assert message.status == "sent" and message.provider_id.startswith("SM")


def test_twilio_refusal_shows_a_clear_message_and_keeps_the_typed_number(
    make_member, sign_in, client, twilio
):
    user = make_member()
    sign_in()
    twilio.fail_with(21211, message="Invalid 'To' Phone Number")
    response = client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 67"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Invalid &#x27;To&#x27;" not in page  # Twilio's own words stay out of the page
    assert 'value="079 123 45 67"' in page
    assert SmsMessage.objects.get().error_code == "21211"
    assert not SmsDevice.objects.get(user=user).confirmed

    # Nothing was delivered, so there is no cooldown: a corrected try goes out at once.
    twilio.accept()
    response = client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 68"})
    assert response["Location"] == "/signin/code/"
    assert twilio.requests[-1].fields["To"] == "+41791234568"


def test_twilio_outage_at_sign_in_keeps_the_member_on_the_code_page_with_send_again(
    enrolled_member, sign_in, client, twilio
):
    enrolled_member()
    twilio.fail_with_status(500)
    sign_in()
    response = client.get("/signin/code/")
    page = response.content.decode()
    assert "Try again in a minute." in page
    assert "Send again" in page
    assert SmsMessage.objects.get().status == "failed"

    twilio.accept()
    client.post("/signin/code/resend/")
    assert client.post("/signin/code/", {"code": sent_code(twilio)})["Location"] == "/"


def test_twilio_timeout_gives_a_clear_message(enrolled_member, sign_in, client, twilio):
    enrolled_member()
    twilio.hang(seconds=5)
    sign_in()
    page = client.get("/signin/code/").content.decode()
    assert "Try again in a minute." in page


def test_a_trickling_twilio_fails_the_sign_in_send_at_the_deadline_with_a_clear_message(
    enrolled_member, sign_in, client, twilio, settings
):
    settings.SMS_SEND_DEADLINE = 1
    enrolled_member()
    twilio.trickle(every=0.05)

    started = time.monotonic()
    assert sign_in()["Location"] == "/signin/code/"
    assert time.monotonic() - started < 1.5

    page = client.get("/signin/code/").content.decode()
    assert "We couldn&#x27;t send the text message right now. Try again in a minute." in page
    assert "Send again" in page
    assert SmsMessage.objects.get().error_code == "deadline"


def test_an_sms_pumping_refusal_at_enrollment_says_so(make_member, sign_in, client, twilio):
    make_member()
    sign_in()
    twilio.fail_with(30450, message="Message delivery blocked")
    response = client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 67"})
    assert "held back this message, because many messages to numbers" in response.content.decode()
    assert SmsMessage.objects.get().error_code == "30450"
