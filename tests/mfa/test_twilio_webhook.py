"""Twilio's delivery reports: signed, idempotent, only forward, and told to the person
(SECURITY.md 16 and 17)."""

import functools
import html
import json
import logging
import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from mfa.codes import code_delivery_failure
from mfa.models import SmsDevice, SmsMessage
from mfa.webhooks import sms_status_record
from tests.mfa.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from tests.races import at_once

WEBHOOK = "/sms/status/"
# What Twilio calls: SITE_URL (tests/settings.py) and the webhook's path.
PUBLIC_URL = "http://testserver/sms/status/"
NUMBER = "+41791234567"
FORM = "application/x-www-form-urlencoded"
UNDELIVERED = "We couldn't deliver the text message with your code."


@pytest.fixture
def sent(db, make_user, settings):
    """A message Twilio accepted, and the Auth Token its reports are signed with."""
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    return SmsMessage.objects.create(
        user=make_user(), to=NUMBER, status=SmsMessage.Status.SENT, provider_id="SM" + "a1" * 16
    )


def report(sid, status, **extra):
    """The form of a status callback, as Twilio posts it."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": FROM_NUMBER,
        "To": NUMBER,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def signature(params, *, url=PUBLIC_URL, token=AUTH_TOKEN):
    return RequestValidator(token).compute_signature(url, params)


def post(client, params, sign=None):
    """POST `params` the way Twilio does, as a form, with the signature `sign` if any."""
    headers = {"X-Twilio-Signature": sign} if sign else {}
    return client.post(WEBHOOK, urlencode(params), content_type=FORM, headers=headers)


def signed_post(client, params):
    return post(client, params, signature(params))


def status_of(message):
    message.refresh_from_db()
    return message.status, message.error_code


# Recording ------------------------------------------------------------------------


def test_signed_delivered_report_marks_the_message_delivered(client, sent):
    response = signed_post(client, report(sent.provider_id, "delivered"))

    assert response.status_code == 200
    assert status_of(sent) == ("delivered", "")


@pytest.mark.parametrize(
    ("twilio_status", "error_code"),
    [
        ("undelivered", "30003"),
        ("undelivered", "30005"),
        ("undelivered", "30006"),
        ("failed", "30008"),
    ],
)
def test_undelivered_or_failed_report_marks_the_message_failed_with_twilio_code(
    client, sent, twilio_status, error_code
):
    signed_post(client, report(sent.provider_id, twilio_status, ErrorCode=error_code))

    assert status_of(sent) == ("failed", error_code)


@pytest.mark.parametrize("twilio_status", ["queued", "accepted", "sending", "sent"])
def test_reports_before_delivery_keep_the_message_sent(client, sent, twilio_status):
    assert signed_post(client, report(sent.provider_id, twilio_status)).status_code == 200

    assert status_of(sent) == ("sent", "")


def test_report_of_an_unknown_message_is_answered_and_changes_nothing(client, sent):
    response = signed_post(client, report("SM" + "ff" * 16, "undelivered", ErrorCode="30003"))

    assert response.status_code == 200
    assert status_of(sent) == ("sent", "")


def test_report_without_a_message_sid_touches_no_message_without_one(client, sent, make_user):
    # Sent by a backend that gives no id (the file backend, say): "" must not match them all.
    without_id = SmsMessage.objects.create(
        user=make_user(email="grace@example.com"), to=NUMBER, status=SmsMessage.Status.SENT
    )

    response = signed_post(client, report("", "undelivered", ErrorCode="30003"))

    assert response.status_code == 200
    assert status_of(without_id) == ("sent", "")
    assert status_of(sent) == ("sent", "")


def test_replayed_report_changes_nothing(client, sent, caplog):
    caplog.set_level(logging.INFO, logger="mfa.webhooks")
    params = report(sent.provider_id, "undelivered", ErrorCode="30003")
    signed_post(client, params)
    SmsMessage.objects.filter(pk=sent.pk).update(error_code="30003-seen")

    assert signed_post(client, params).status_code == 200
    assert status_of(sent) == ("failed", "30003-seen")
    assert caplog.text.count("failed, error 30003") == 1


def test_late_sent_report_does_not_undo_delivered(client, sent):
    signed_post(client, report(sent.provider_id, "delivered"))
    signed_post(client, report(sent.provider_id, "sent"))

    assert status_of(sent) == ("delivered", "")


def test_failure_reported_after_delivery_wins(client, sent):
    signed_post(client, report(sent.provider_id, "delivered"))
    signed_post(client, report(sent.provider_id, "undelivered", ErrorCode="30005"))

    assert status_of(sent) == ("failed", "30005")


def test_delivery_reported_after_a_failure_does_not_undo_it(client, sent):
    signed_post(client, report(sent.provider_id, "undelivered", ErrorCode="30005"))
    signed_post(client, report(sent.provider_id, "delivered"))

    assert status_of(sent) == ("failed", "30005")


def test_second_failure_keeps_the_first_error_code(client, sent):
    signed_post(client, report(sent.provider_id, "undelivered", ErrorCode="30003"))
    signed_post(client, report(sent.provider_id, "failed", ErrorCode="30008"))

    assert status_of(sent) == ("failed", "30003")


def test_no_csrf_token_is_needed(sent):
    client = Client(enforce_csrf_checks=True)

    assert signed_post(client, report(sent.provider_id, "delivered")).status_code == 200
    assert status_of(sent) == ("delivered", "")


def test_get_is_not_allowed(client, sent):
    assert client.get(WEBHOOK, report(sent.provider_id, "delivered")).status_code == 405


def test_reports_to_a_configured_callback_are_checked_against_its_host(client, sent, settings):
    settings.TWILIO_STATUS_CALLBACK = "https://hooks.example.com/sms/status/"
    params = report(sent.provider_id, "delivered")

    refused = signed_post(client, params)  # signed for SITE_URL, which Twilio was not told to call
    assert refused.status_code == 403
    sign = signature(params, url="https://hooks.example.com/sms/status/")
    accepted = post(client, params, sign)
    assert accepted.status_code == 200
    assert status_of(sent) == ("delivered", "")


def test_signature_is_checked_against_the_public_site_url_not_the_request_host(
    client, sent, settings
):
    # Behind a TLS proxy the app sees http://testserver; Twilio called SITE_URL.
    settings.SITE_URL = "https://backstage.example.com"
    params = report(sent.provider_id, "delivered")
    sign = signature(params, url="https://backstage.example.com/sms/status/")

    assert post(client, params, sign).status_code == 200
    assert status_of(sent) == ("delivered", "")


# Refusing -------------------------------------------------------------------------


def test_report_without_a_signature_is_refused(client, sent):
    response = post(client, report(sent.provider_id, "undelivered", ErrorCode="30003"))

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


def test_report_signed_with_another_token_is_refused(client, sent):
    params = report(sent.provider_id, "undelivered", ErrorCode="30003")
    sign = signature(params, token="somebody-elses-token")

    response = post(client, params, sign)

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


@pytest.mark.parametrize(
    "url",
    [
        "https://testserver/sms/status/",
        "http://evil.example/sms/status/",
        "http://testserver/signin/code/",
        "http://testserver/sms/status/?retry=1",
    ],
)
def test_report_signed_for_another_url_is_refused(client, sent, url):
    params = report(sent.provider_id, "undelivered", ErrorCode="30003")
    sign = signature(params, url=url)

    response = post(client, params, sign)

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


def test_report_with_an_unsigned_extra_param_is_refused(client, sent):
    signed = report(sent.provider_id, "undelivered")
    response = post(client, {**signed, "ErrorCode": "30003"}, signature(signed))

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


def test_report_with_an_altered_status_is_refused(client, sent):
    signed = report(sent.provider_id, "delivered")
    response = post(client, {**signed, "MessageStatus": "undelivered"}, signature(signed))

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


def test_json_body_with_a_wrong_body_hash_is_refused(client, sent):
    url = f"{PUBLIC_URL}?bodySHA256={'0' * 64}"
    body = json.dumps(report(sent.provider_id, "undelivered", ErrorCode="30003"))

    response = client.post(
        f"{WEBHOOK}?bodySHA256={'0' * 64}",
        body,
        content_type="application/json",
        headers={"X-Twilio-Signature": signature({}, url=url)},
    )

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


def test_without_an_auth_token_every_report_is_refused(client, sent, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = report(sent.provider_id, "undelivered", ErrorCode="30003")

    response = post(client, params, signature(params, token=""))

    assert response.status_code == 403
    assert status_of(sent) == ("sent", "")


def test_refusals_and_reports_keep_the_number_and_the_form_out_of_the_log(client, sent, caplog):
    caplog.set_level(logging.DEBUG)
    params = report(sent.provider_id, "undelivered", ErrorCode="30003", Body="code is 918273")

    post(client, params)
    post(client, params, "forged")
    signed_post(client, params)

    assert "Twilio status callback refused: no signature" in caplog.text
    assert "Twilio status callback refused: wrong signature" in caplog.text
    assert status_of(sent) == ("failed", "30003")
    assert NUMBER[1:] not in caplog.text
    assert "918273" not in caplog.text
    assert "forged" not in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_reports_end_failed_whatever_their_order(make_user):
    user = make_user()
    for attempt in range(10):
        message = SmsMessage.objects.create(
            user=user, to=NUMBER, status=SmsMessage.Status.SENT, provider_id=f"SM{attempt}"
        )

        def record(status, error_code, message=message):
            sms_status_record(provider_id=message.provider_id, status=status, error_code=error_code)

        # A delivery, a failure and the delivery's replay, all at once.
        reports = [
            (SmsMessage.Status.DELIVERED, ""),
            (SmsMessage.Status.FAILED, "30003"),
            (SmsMessage.Status.DELIVERED, ""),
        ]
        at_once(*(functools.partial(record, *reported) for reported in reports))
        assert status_of(message) == ("failed", "30003")


# What the person sees -------------------------------------------------------------


def signed_in_through_twilio(enrolled_member, sign_in, twilio):
    """The message with the code of a member now on the code page, sent through the stand-in."""
    enrolled_member()
    sign_in()
    assert twilio.requests[-1].fields["StatusCallback"] == PUBLIC_URL
    return SmsMessage.objects.get(status="sent")


@pytest.mark.parametrize(
    ("error_code", "reason"),
    [
        ("30003", "Your phone couldn't be reached."),
        ("30005", "This number is unknown or no longer in service."),
        ("30006", "This number can't receive text messages (it may be a landline)."),
    ],
)
def test_code_page_says_the_text_was_not_delivered_and_why(
    enrolled_member, sign_in, client, twilio, error_code, reason
):
    message = signed_in_through_twilio(enrolled_member, sign_in, twilio)
    assert UNDELIVERED not in html.unescape(client.get("/signin/code/").content.decode())

    signed_post(Client(), report(message.provider_id, "undelivered", ErrorCode=error_code))

    assert status_of(message) == ("failed", error_code)
    page = html.unescape(client.get("/signin/code/").content.decode())
    assert f"{UNDELIVERED} {reason}" in page
    assert "Send again" in page


def test_code_page_says_nothing_once_the_text_is_delivered(
    enrolled_member, sign_in, client, twilio
):
    message = signed_in_through_twilio(enrolled_member, sign_in, twilio)
    signed_post(Client(), report(message.provider_id, "delivered"))

    assert UNDELIVERED not in html.unescape(client.get("/signin/code/").content.decode())


def test_a_new_code_leaves_the_failure_of_the_earlier_one_behind(
    enrolled_member, sign_in, client, twilio, clock
):
    message = signed_in_through_twilio(enrolled_member, sign_in, twilio)
    signed_post(Client(), report(message.provider_id, "undelivered", ErrorCode="30003"))
    clock.advance(seconds=31)

    client.post("/signin/code/resend/")

    assert len(twilio.requests) == 2
    assert UNDELIVERED not in html.unescape(client.get("/signin/code/").content.decode())


def test_failure_of_a_text_sent_before_the_current_code_is_not_shown(enrolled_member, clock):
    device = SmsDevice.objects.get(user=enrolled_member())
    SmsMessage.objects.create(
        user=device.user, to=NUMBER, status=SmsMessage.Status.FAILED, error_code="30003"
    )
    clock.advance(seconds=1)
    device.cooldown_set()

    assert code_delivery_failure(device) == ""


def test_reading_the_delivery_costs_the_code_page_no_query_of_its_own(
    enrolled_member, sign_in, client, twilio, django_assert_num_queries
):
    message = signed_in_through_twilio(enrolled_member, sign_in, twilio)
    signed_post(Client(), report(message.provider_id, "undelivered", ErrorCode="30003"))

    # Session, member, the device with the member's other factors and the newest SMS since
    # its code (mfa.factors.signin_phone, delivery=True), and the admins to ask.
    with django_assert_num_queries(4):
        assert UNDELIVERED in html.unescape(client.get("/signin/code/").content.decode())


def test_phone_change_code_page_says_the_text_was_not_delivered(
    enrolled_member, sign_in, client, twilio
):
    signed_in_through_twilio(enrolled_member, sign_in, twilio)
    code = re.search(r"code is (\d{6})\.", twilio.requests[-1].fields["Body"]).group(1)
    assert client.post("/signin/code/", {"code": code})["Location"] == "/"
    client.post("/settings/phone/", {"country": "CH", "number": "079 123 45 68"})
    [change] = SmsMessage.objects.filter(to="+41791234568")

    signed_post(Client(), report(change.provider_id, "undelivered", ErrorCode="30005"))

    page = html.unescape(client.get("/settings/phone/code/").content.decode())
    assert f"{UNDELIVERED} This number is unknown or no longer in service." in page
