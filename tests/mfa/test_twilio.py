"""The Twilio backend over real HTTP, against a local stand-in for Twilio's API."""

import json
import logging
import threading
import time

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

from mfa.sms import SmsDeliveryError, SmsMessage, get_backend
from tests.mfa.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from tests.mfa.twilio_standin import TwilioStandin

TRY_AGAIN = "We couldn't send the text message right now. Try again in a minute."


def send(to="+41791234567", body="Your Backstage code is 123456."):
    return get_backend().send(SmsMessage(to=to, body=body))


def test_send_posts_to_from_and_body_with_the_account_credentials(twilio):
    sid = send(body="Your Backstage code is 123456.\n\n@example.com #123456")

    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.fields["To"] == "+41791234567"
    assert request.fields["From"] == FROM_NUMBER
    assert request.fields["Body"] == "Your Backstage code is 123456.\n\n@example.com #123456"
    # SITE_URL (tests/settings.py) and the webhook's path: where Twilio reports delivery.
    assert request.fields["StatusCallback"] == "http://testserver/sms/status/"
    assert sid.startswith("SM")
    assert len(sid) == 34


def test_a_configured_status_callback_replaces_the_site_url(twilio, settings):
    settings.TWILIO_STATUS_CALLBACK = "https://hooks.example.com/sms/status/"
    send()

    assert twilio.requests[0].fields["StatusCallback"] == "https://hooks.example.com/sms/status/"


def test_an_empty_status_callback_asks_for_no_delivery_reports(twilio, settings):
    settings.TWILIO_STATUS_CALLBACK = ""
    send()

    assert "StatusCallback" not in twilio.requests[0].fields
    assert twilio.requests[0].fields["To"] == "+41791234567"


def test_each_send_returns_the_sid_twilio_gave_it(twilio):
    assert send() != send()
    assert len(twilio.requests) == 2


@pytest.mark.parametrize(
    ("code", "user_message"),
    [
        (21211, "This phone number isn't valid. Check it and try again."),
        (
            21408,
            "Text messages can't be sent to this country yet. Contact your organization admin.",
        ),
        (
            21610,
            "This number has turned off our text messages (by replying STOP). Reply START to "
            "one of our earlier messages from that phone, then try again.",
        ),
        (
            21614,
            "This number can't receive text messages (it may be a landline). Use a mobile number.",
        ),
    ],
)
def test_twilio_refusal_becomes_a_clear_message_with_its_code(twilio, code, user_message):
    twilio.fail_with(code, message="The 'To' number +41791234567 is not valid.")

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == str(code)
    assert raised.value.message == user_message
    assert len(twilio.requests) == 1


@pytest.mark.parametrize("code", [30003, 30004, 30005, 30006, 30007, 30008])
def test_delivery_error_codes_have_their_own_message(twilio, code):
    twilio.fail_with(code)

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == str(code)
    assert raised.value.message != TRY_AGAIN
    assert "Twilio" not in raised.value.message


def test_unknown_twilio_error_asks_to_try_again_and_keeps_the_code(twilio):
    twilio.fail_with(20003, status=401, message="Authenticate")

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == "20003"
    assert raised.value.message == TRY_AGAIN


def test_server_error_asks_to_try_again_and_is_not_retried(twilio):
    twilio.fail_with_status(500)

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == "http-500"
    assert raised.value.message == TRY_AGAIN
    assert len(twilio.requests) == 1


def test_server_error_with_a_twilio_code_is_still_a_server_error(twilio):
    twilio.fail_with(20500, status=503)

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == "http-503"
    assert raised.value.message == TRY_AGAIN


def test_timeout_gives_up_after_the_configured_seconds_without_retrying(twilio, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.2
    twilio.hang(seconds=10)

    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert time.monotonic() - started < 2
    assert raised.value.code == "timeout"
    assert raised.value.message == TRY_AGAIN
    assert len(twilio.requests) == 1


def test_unreachable_twilio_asks_to_try_again(settings):
    with TwilioStandin() as standin:
        closed_port_url = standin.base_url  # Nothing listens there once the block ends.
    settings.SMS_BACKEND = "mfa.sms.twilio.SmsBackend"
    settings.TWILIO_API_BASE_URL = closed_port_url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == "connection"
    assert raised.value.message == TRY_AGAIN


def test_the_text_and_the_token_stay_out_of_the_logs(twilio, caplog):
    caplog.set_level(logging.DEBUG)

    send(body="Your Backstage code is 918273.")
    twilio.fail_with(21211)
    with pytest.raises(SmsDeliveryError):
        send(body="Your Backstage code is 918273.")

    assert "918273" not in caplog.text
    assert AUTH_TOKEN not in caplog.text


# One deadline for the whole send (issue 10 item 6) ------------------------------------------

PUMPING = (
    "Our text message provider held back this message, because many messages to numbers "
    "like this one were asked for lately. Try again later; if it keeps happening, contact "
    "your organization admin."
)


def test_a_send_has_one_deadline_of_five_seconds():
    from django.conf import settings as django_settings

    assert django_settings.SMS_SEND_DEADLINE == 5


def test_a_trickling_answer_fails_the_send_at_the_deadline(twilio, settings):
    settings.SMS_SEND_DEADLINE = 1
    # A byte every 50 ms: far inside the per-read timeout (0.5 s), and some 20 s in all.
    twilio.trickle(every=0.05)

    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert 1 <= time.monotonic() - started < 1.5
    assert raised.value.code == "deadline"
    assert raised.value.message == TRY_AGAIN
    assert len(twilio.requests) == 1


def test_an_answer_that_trickles_in_before_the_deadline_is_a_sent_message(twilio, settings):
    twilio.trickle(every=0.001)
    assert send().startswith("SM")


@pytest.mark.parametrize("code", [30450, 30453])
def test_sms_pumping_refusals_have_their_own_message(twilio, code):
    twilio.fail_with(code, message="Message delivery blocked by SMS Pumping Protection")

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == str(code)
    assert raised.value.message == PUMPING


class SlowHttpClient(HttpClient):
    """Answers like Twilio after `seconds`, unless the request's timeout is shorter: then it
    gives up when that timeout is over, as requests does for an answer that does not come."""

    def __init__(self, seconds: float):
        super().__init__(logging.getLogger(__name__), is_async=False)
        self.seconds = seconds
        self.timeouts = []
        self.ended = threading.Event()

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        timeout = timeout or self.timeout
        self.timeouts.append(timeout)
        try:
            if timeout is not None and timeout < self.seconds:
                time.sleep(timeout)
                raise requests.ReadTimeout(f"no answer in {timeout} s")
            time.sleep(self.seconds)
            return Response(201, json.dumps({"sid": "SM" + "0" * 32, "status": "queued"}))
        finally:
            self.ended.set()


def test_past_the_deadline_the_abandoned_request_ends_too(twilio, settings):
    settings.SMS_SEND_DEADLINE = 0.3
    settings.TWILIO_TIMEOUT_SECONDS = 10  # per read: alone, it would hold the thread 10 s
    client = SlowHttpClient(seconds=10)

    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as raised:
        get_backend(http_client=client).send(SmsMessage(to="+41791234567", body="Hi"))

    assert raised.value.code == "deadline"
    # The request was given what was left of the deadline, and gave up with it.
    [timeout] = client.timeouts
    assert 0 < timeout <= 0.3
    assert client.ended.wait(0.2)
    assert time.monotonic() - started < 0.6


def test_a_twilio_that_stops_answering_holds_the_send_thread_no_longer_than_the_deadline(
    twilio, settings, monkeypatch
):
    settings.SMS_SEND_DEADLINE = 0.5
    settings.TWILIO_TIMEOUT_SECONDS = 10
    twilio.hang(seconds=10)
    started = []

    class Thread(threading.Thread):
        def start(self):
            started.append(self)
            super().start()

    monkeypatch.setattr(threading, "Thread", Thread)

    with pytest.raises(SmsDeliveryError) as raised:
        send()

    assert raised.value.code == "deadline"
    [thread] = [thread for thread in started if thread.name == "twilio-send"]
    thread.join(0.5)
    assert not thread.is_alive()
