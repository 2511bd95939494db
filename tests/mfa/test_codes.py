"""Rules of SMS codes, below the pages: digest, single use, the race."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core.http import client_ip, client_of
from mfa import sms
from mfa.codes import (
    CodeError,
    attempt_key,
    code_delivery_failure,
    code_digest,
    code_send,
    code_verify,
    seconds_until_resend,
)
from mfa.factors import pending_phone
from mfa.models import SmsDevice, SmsMessage
from mfa.sending import SmsNotAllowed
from tests import races


@pytest.fixture
def device(enrolled_member):
    return SmsDevice.objects.get(user=enrolled_member())


@pytest.fixture
def request_():
    return RequestFactory().post("/signin/code/", REMOTE_ADDR="198.51.100.7")


def test_codes_are_six_digits_and_differ(device, request_, last_code, clock):
    codes = set()
    for _ in range(5):
        code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
        codes.add(last_code())
        clock.advance(seconds=31)
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 1


def test_only_a_keyed_hash_of_the_code_is_stored(device, request_, last_code):
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    device.refresh_from_db()
    assert last_code() not in device.token
    assert device.token == code_digest("a", last_code())


def test_code_is_used_once(device, request_, last_code):
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    code = last_code()
    code_verify(device=device, attempt="a", code=code, **client_of(request_))
    with pytest.raises(CodeError) as refused:
        code_verify(device=device, attempt="a", code=code, **client_of(request_))
    assert refused.value.code == "no_code"


def test_code_sent_for_one_attempt_fails_for_another(device, request_, last_code):
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    with pytest.raises(CodeError) as refused:
        code_verify(device=device, attempt="b", code=last_code(), **client_of(request_))
    assert refused.value.code == "wrong"


def test_a_new_code_kills_the_previous_one(device, request_, last_code, clock):
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    first = last_code()
    clock.advance(seconds=31)
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    if first != last_code():
        with pytest.raises(CodeError):
            code_verify(device=device, attempt="a", code=first, **client_of(request_))
        clock.advance(seconds=2)  # the back-off after that wrong try
    assert code_verify(device=device, attempt="a", code=last_code(), **client_of(request_))


def test_country_refusal_sends_nothing_and_leaves_no_cooldown(device, request_, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["GB"]
    # Raised as it is, not re-wrapped on the way to the page.
    with pytest.raises(SmsNotAllowed):
        code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    device.refresh_from_db()
    assert sms.outbox == []
    assert device.token is None and device.last_generated_timestamp is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_the_same_code_exactly_one_wins(enrolled_member, last_code):
    device = SmsDevice.objects.get(user=enrolled_member())
    request_ = RequestFactory().post("/signin/code/")
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    code = last_code()

    def verify():
        code_verify(device=device, attempt="a", code=code, **client_of(request_))

    outcomes = races.outcomes(*[verify] * 4, error=CodeError, ok="won")
    assert outcomes.count("won") == 1
    assert outcomes == ["no_code", "no_code", "no_code", "won"]


# The cooldown between two codes: one rule (mfa.models.resend_cooldown_since) -----------


def resend_refused(device, request_) -> bool:
    try:
        code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    except CodeError as error:
        assert error.code == "cooldown"
        return True
    return False


def test_the_send_and_the_countdown_both_allow_a_new_code_only_after_thirty_seconds(
    device, request_, clock
):
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    device.refresh_from_db()

    clock.advance(seconds=30)  # exactly the cooldown: still too soon, for both
    assert seconds_until_resend(device) == 1
    assert resend_refused(device, request_)

    clock.advance(microseconds=1)
    assert seconds_until_resend(device) == 0
    assert not resend_refused(device, request_)
    assert len(sms.outbox) == 2


def test_a_changed_cooldown_moves_the_send_and_the_countdown_together(
    device, request_, clock, settings
):
    settings.MFA_RESEND_COOLDOWN = timedelta(seconds=5)
    code_send(device=device, attempt="a", to=device.number, ip=client_ip(request_))
    device.refresh_from_db()

    clock.advance(seconds=3)
    assert seconds_until_resend(device) == 3
    assert resend_refused(device, request_)

    clock.advance(seconds=2, microseconds=1)
    assert seconds_until_resend(device) == 0
    assert not resend_refused(device, request_)


def test_the_attempt_reaches_the_database_only_as_its_keyed_hash(device, request_, last_code):
    attempt = "the-attempt-a-secret-of-the-session"
    with CaptureQueriesContext(connection) as queries:
        code_send(device=device, attempt=attempt, to=device.number, ip=client_ip(request_))
        code_verify(device=device, attempt=attempt, code=last_code(), **client_of(request_))

    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert attempt not in statements
    # The send's UPDATE compares and stores the hash, and the code is accepted by it.
    assert attempt_key(attempt) in statements
    device.refresh_from_db()
    assert device.attempt_key == attempt_key(attempt) and device.last_used_at is not None


# The code page's read of the latest text (mfa.codes.latest_text_asked), held to
# code_delivery_failure's own query -------------------------------------------------------

FAILED, SENT = "failed", "sent"


@pytest.mark.parametrize("texts", [
    [],  # nothing sent since the code
    [("before", FAILED)],  # a failure for an older code
    [("after", FAILED)],
    [("after", SENT)],
    [("after", FAILED), ("after", SENT)],  # the newer one counts
    [("after", SENT), ("after", FAILED)],
    [("same", FAILED), ("same", SENT)],  # made with the code, same instant: the later row
    [("same", SENT), ("same", FAILED)],
    [("other member", FAILED)],
    [("no code", FAILED)],  # no code waiting: nothing to tell
])
def test_the_code_pages_read_of_the_latest_text_says_what_the_query_says(
    device, make_user, clock, texts
):
    other = make_user("grace@example.com")
    clock.advance(seconds=5)
    if not (texts and texts[0][0] == "no code"):
        device.cooldown_set()  # a code made now
    device.refresh_from_db()
    code_at = device.last_generated_timestamp or device.created_at
    at = {"before": code_at - timedelta(seconds=1), "same": code_at}
    for when, status in texts:
        SmsMessage.objects.create(
            user=other if when == "other member" else device.user, to=device.number,
            status=status, error_code="30003", created_at=at.get(when, code_at + timedelta(1)),
        )

    read = pending_phone(device.user_id, page=True)
    expected = code_delivery_failure(device)  # the ORM's query: no answers read with `device`
    assert "latest_text_status" not in vars(device) and "latest_text_status" in vars(read)
    assert code_delivery_failure(read) == expected
    failed_last = bool(texts) and texts[-1][0] in ("after", "same") and texts[-1][1] == FAILED
    assert bool(expected) == failed_last
