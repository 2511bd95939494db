"""sms_send: the country allow-list, the send limits, and the record of every send."""

import logging
from datetime import timedelta
from io import StringIO

import phonenumbers
import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from phonenumber_field.phonenumber import PhoneNumber

from core.limits import limit
from mfa import sms
from mfa.delivery import Failure
from mfa.models import SmsLimitKey, SmsMessage
from mfa.sending import (
    LIMIT_NAMES,
    SmsNotAllowed,
    sms_limit_keys_prune,
    sms_messages_prune,
    sms_send,
)
from mfa.sms import SmsDeliveryError
from mfa.sms.base import BaseSmsBackend

BODY = "Your Backstage code is 482913.\n\n@example.com #482913"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
WINDOW_NAMES = {HOUR: "HOUR", DAY: "DAY"}


class FailingSmsBackend(BaseSmsBackend):
    def send(self, message):
        raise SmsDeliveryError(Failure.INVALID_NUMBER, code="21211")


class BrokenSmsBackend(BaseSmsBackend):
    def send(self, message):
        raise RuntimeError("bug in a backend")


def number(e164):
    return PhoneNumber.from_string(e164)


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def only_limit(settings):
    """Set one kind of limit and no others, so that a test sees that one alone."""

    def only(kind, limits):
        # The other SMS limits, and the windows of this kind not given, out of reach.
        out_of_reach = {
            name: {"window": HOUR, "max": 10**6} for names in LIMIT_NAMES.values() for name in names
        }
        given = {
            f"SMS_PER_{kind.upper()}_{WINDOW_NAMES[window]}": {"window": window, "max": most}
            for window, most in limits
        }
        settings.LIMITS = {**settings.LIMITS, **out_of_reach, **given}

    return only


# Countries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "to",
    [PhoneNumber.from_string("+41791234567"), phonenumbers.parse("+41791234567")],
    ids=["phonenumber_field", "phonenumbers"],
)
def test_number_in_an_allowed_country_is_sent_and_recorded(user, settings, to):
    settings.SMS_ALLOWED_COUNTRIES = ["CH"]

    row = sms_send(user=user, to=to, body=BODY, ip="203.0.113.7")

    assert sms.outbox == [sms.SmsMessage(to="+41791234567", body=BODY)]
    row.refresh_from_db()
    assert row.status == SmsMessage.Status.SENT
    assert row.to == "+41791234567"
    assert row.user == user
    assert row.ip_address == "203.0.113.7"
    assert row.error_code == ""


def test_number_in_a_country_not_allowed_is_refused_before_any_query_or_send(
    user, settings, django_assert_num_queries
):
    settings.SMS_ALLOWED_COUNTRIES = ["CH", "DE"]

    with django_assert_num_queries(0), pytest.raises(SmsNotAllowed) as refused:
        sms_send(user=user, to=number("+2348031234567"), body=BODY, ip="203.0.113.7")

    assert refused.value.code == "country"
    assert refused.value.message == (
        "Text messages can't be sent to numbers in Nigeria yet. Contact your organization admin."
    )
    assert sms.outbox == []
    assert not SmsMessage.objects.exists()


def test_number_of_no_country_is_refused(user):
    with pytest.raises(SmsNotAllowed) as refused:
        sms_send(user=user, to=number("+80012345678"), body=BODY, ip=None)

    assert refused.value.code == "country"
    assert "this number" in refused.value.message
    assert sms.outbox == []


# Limits ------------------------------------------------------------------------------

# For each kind of limit: the arguments of the i-th send, sharing only what is limited.
SENDS = {
    "user": lambda users, i: dict(user=users[0], to=f"+4179{i:03d}4567", ip=f"203.0.113.{i}"),
    "number": lambda users, i: dict(user=users[i], to="+41791234567", ip=f"203.0.113.{i}"),
    "number_block": lambda users, i: dict(
        user=users[i], to=f"+417912345{i:02d}", ip=f"203.0.113.{i}"
    ),
    "ip": lambda users, i: dict(user=users[i], to=f"+4179{i:03d}4567", ip="198.51.100.1"),
}
REFUSALS = {
    "user": ("limit-user", "You have asked for too many codes."),
    "number": ("limit-number", "Too many codes were sent to this number."),
    "number_block": ("limit-number-block", "Too many codes were sent to numbers like this one."),
    "ip": ("limit-ip", "Too many codes were asked for from your network."),
}


@pytest.fixture
def users(make_user):
    return [make_user(email=f"member{i}@example.com") for i in range(12)]


@pytest.mark.parametrize("kind", SENDS)
def test_limit_is_reached_at_its_count_within_the_window(users, only_limit, kind):
    only_limit(kind, [(HOUR, 3), (DAY, 5)])
    sends = (SENDS[kind](users, i) for i in range(12))
    for _ in range(3):
        sms_send(**_as_number(next(sends)), body=BODY)

    with pytest.raises(SmsNotAllowed) as refused:
        sms_send(**_as_number(next(sends)), body=BODY)

    code, what = REFUSALS[kind]
    assert refused.value.code == code
    assert refused.value.message == f"{what} Try again in an hour."
    assert len(sms.outbox) == 3
    assert SmsMessage.objects.count() == 3


@pytest.mark.parametrize("kind", SENDS)
def test_limit_lets_sends_through_again_once_the_window_has_passed(users, only_limit, clock, kind):
    only_limit(kind, [(HOUR, 3), (DAY, 5)])
    sends = (_as_number(SENDS[kind](users, i)) for i in range(12))
    for _ in range(3):
        sms_send(**next(sends), body=BODY)

    clock.advance(hours=1, seconds=1)
    for _ in range(2):
        sms_send(**next(sends), body=BODY)
    with pytest.raises(SmsNotAllowed) as refused:  # Five in a day.
        sms_send(**next(sends), body=BODY)
    assert refused.value.message.endswith("Try again tomorrow.")

    clock.advance(days=1)
    sms_send(**next(sends), body=BODY)

    assert len(sms.outbox) == 6


def test_twenty_adjacent_numbers_are_throttled_with_the_default_limits(make_user):
    block_per_hour = limit("SMS_PER_NUMBER_BLOCK_HOUR").max
    refusals = []

    for i in range(20):
        member = make_user(email=f"pump{i}@example.com")
        try:
            sms_send(user=member, to=number(f"+417912345{i:02d}"), body=BODY, ip=f"192.0.2.{i}")
        except SmsNotAllowed as refused:
            refusals.append(refused.code)

    assert len(sms.outbox) == block_per_hour
    assert refusals == ["limit-number-block"] * (20 - block_per_hour)
    # The next block of a hundred numbers is not affected.
    sms_send(
        user=make_user(email="next@example.com"), to=number("+41791234600"), body=BODY, ip=None
    )


def test_failed_sends_count_towards_the_limits(user, only_limit, settings):
    only_limit("number", [(HOUR, 2)])
    settings.SMS_BACKEND = "tests.mfa.test_sending.FailingSmsBackend"
    for _ in range(2):
        with pytest.raises(SmsDeliveryError):
            sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)

    with pytest.raises(SmsNotAllowed) as refused:
        sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)

    assert refused.value.code == "limit-number"


def test_unknown_ip_addresses_do_not_share_a_limit(users, only_limit):
    only_limit("ip", [(HOUR, 2)])

    for i in range(4):
        sms_send(user=users[i], to=number(f"+4179{i:03d}4567"), body=BODY, ip=None)

    assert len(sms.outbox) == 4


def test_limits_are_checked_in_one_query(user, settings, django_assert_num_queries):
    settings.LIMITS = {**settings.LIMITS, "SMS_PER_USER_HOUR": {"window": HOUR, "max": 2}}
    send = dict(user=user, to=number("+41791234567"), body=BODY, ip="203.0.113.7")

    # Locking the keys, the limits, the row, then the row's outcome; and the savepoint
    # that the short transaction of the first three is inside the test's transaction.
    with django_assert_num_queries(3 + 1 + 2):
        sms_send(**send)
    sms_send(**send)
    # Refused: the keys and the limits, and the savepoint rolled back.
    with django_assert_num_queries(1 + 1 + 3), pytest.raises(SmsNotAllowed):
        sms_send(**send)


# The record --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_failed_delivery_is_recorded_and_raised_for_the_caller_to_show(make_user, settings):
    settings.SMS_BACKEND = "tests.mfa.test_sending.FailingSmsBackend"
    user = make_user()

    with pytest.raises(SmsDeliveryError) as failed:
        sms_send(user=user, to=number("+41791234567"), body=BODY, ip="203.0.113.7")

    assert failed.value.message == "This phone number isn't valid. Check it and try again."
    # Committed, not rolled back with the error.
    row = SmsMessage.objects.get()
    assert row.status == SmsMessage.Status.FAILED
    assert row.error_code == "21211"
    assert row.to == "+41791234567"
    assert row.provider_id == ""


def test_a_broken_backend_leaves_a_failed_row_not_a_pending_one(user, settings):
    settings.SMS_BACKEND = "tests.mfa.test_sending.BrokenSmsBackend"

    with pytest.raises(RuntimeError):
        sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)

    row = SmsMessage.objects.get()
    assert row.status == SmsMessage.Status.FAILED
    assert row.error_code == "backend-error"


def test_provider_id_is_recorded(user, settings, tmp_path):
    settings.SMS_BACKEND = "mfa.sms.filebased.SmsBackend"
    settings.SMS_FILE_PATH = tmp_path

    row = sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)

    assert SmsMessage.objects.get().provider_id == row.provider_id
    assert (tmp_path / row.provider_id).exists()


def test_the_text_is_never_stored_or_logged_and_the_number_is_masked(
    user, settings, only_limit, caplog
):
    caplog.set_level(logging.DEBUG)
    only_limit("number", [(HOUR, 2)])

    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    settings.SMS_BACKEND = "tests.mfa.test_sending.FailingSmsBackend"
    with pytest.raises(SmsDeliveryError):
        sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    with pytest.raises(SmsNotAllowed):
        sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)

    assert "482913" not in caplog.text
    assert "+41791234567" not in caplog.text
    assert "*" * 10 + "67" in caplog.text
    assert "21211" in caplog.text
    for row in SmsMessage.objects.all():
        for field in SmsMessage._meta.concrete_fields:
            assert "482913" not in str(getattr(row, field.attname))


def _as_number(send):
    return {**send, "to": number(send["to"])}


# Pruning the limit keys --------------------------------------------------------------


def test_prune_deletes_only_the_keys_unused_for_longer_than_a_day(make_user, clock):
    old, recent = make_user("old@example.com"), make_user("recent@example.com")
    sms_send(user=old, to=number("+41791234567"), body=BODY, ip="203.0.113.7")
    clock.advance(hours=2)
    sms_send(user=recent, to=number("+41797654321"), body=BODY, ip="198.51.100.8")
    clock.advance(hours=22, seconds=1)  # the first send is just past the day, the longest

    output = StringIO()
    call_command("sms_limits_prune", stdout=output)

    assert output.getvalue() == (
        "4 SMS limit keys deleted.\n0 SMS messages older than 90 days deleted.\n"
    )
    assert set(SmsLimitKey.objects.values_list("key", flat=True)) == {
        f"user:{recent.pk}",
        "number:+41797654321",
        "block:+417976543",
        "ip:198.51.100.8",
    }
    # The messages are the record and what the limits count: they stay (for 90 days).
    assert SmsMessage.objects.count() == 2


def test_a_key_is_kept_while_a_send_in_the_last_day_used_it(user, clock):
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(hours=23)
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(hours=2)  # the first send is past the day, the second is not

    assert sms_limit_keys_prune() == 0
    assert SmsLimitKey.objects.count() == 3


def test_the_limits_still_hold_after_a_prune(users, only_limit, clock):
    # The keys only make sends wait for each other; the limits count the messages.
    only_limit("number", [(DAY, 2)])
    sms_send(user=users[0], to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(hours=23)
    sms_send(user=users[1], to=number("+41791234567"), body=BODY, ip=None)
    SmsLimitKey.objects.all().delete()  # as a prune would once they are old enough

    with pytest.raises(SmsNotAllowed) as refused:
        sms_send(user=users[2], to=number("+41791234567"), body=BODY, ip=None)
    assert refused.value.code == "limit-number"


# Pruning the messages ----------------------------------------------------------------


def test_prune_deletes_the_messages_older_than_90_days_and_keeps_the_younger(user, clock):
    for to in ["+41791234567", "+41791234568", "+41797654321"]:
        sms_send(user=user, to=number(to), body=BODY, ip="203.0.113.7")
    clock.advance(days=45)
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip="203.0.113.7")
    clock.advance(days=45, seconds=1)  # the first three are just past 90 days
    young = SmsMessage.objects.filter(created_at__gt=clock.now - timedelta(days=90)).get()
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip="203.0.113.7")

    output = StringIO()
    call_command("sms_limits_prune", stdout=output)

    assert output.getvalue().splitlines()[1] == "3 SMS messages older than 90 days deleted."
    assert SmsMessage.objects.count() == 2
    assert young in SmsMessage.objects.all()
    assert not SmsMessage.objects.filter(created_at__lte=clock.now - timedelta(days=90)).exists()


def test_a_message_exactly_as_old_as_the_retention_stays(user, clock):
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(days=90)

    assert sms_messages_prune() == 0
    assert SmsMessage.objects.count() == 1


def test_the_retention_is_a_setting(user, clock, settings):
    settings.SMS_MESSAGES_KEPT_FOR = timedelta(days=7)
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(days=6)
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(days=1, seconds=1)

    output = StringIO()
    call_command("sms_limits_prune", stdout=output)

    assert output.getvalue().splitlines()[1] == "1 SMS message older than 7 days deleted."
    assert SmsMessage.objects.count() == 1


def test_the_limits_still_count_every_send_of_their_window_after_a_message_prune(
    users, only_limit, clock, settings
):
    # The shortest retention allowed: the longest window (a day).
    settings.SMS_MESSAGES_KEPT_FOR = DAY
    only_limit("number", [(DAY, 2)])
    sms_send(user=users[0], to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(hours=23)
    sms_send(user=users[1], to=number("+41791234567"), body=BODY, ip=None)
    call_command("sms_limits_prune", stdout=StringIO())

    assert SmsMessage.objects.count() == 2  # both within the day: they count, they stay
    with pytest.raises(SmsNotAllowed) as refused:
        sms_send(user=users[2], to=number("+41791234567"), body=BODY, ip=None)
    assert refused.value.code == "limit-number"

    clock.advance(hours=1, seconds=1)  # the first send is past the day
    assert sms_messages_prune() == 1
    sms_send(user=users[2], to=number("+41791234567"), body=BODY, ip=None)  # one left: sent
    with pytest.raises(SmsNotAllowed):
        sms_send(user=users[3], to=number("+41791234567"), body=BODY, ip=None)


@pytest.mark.parametrize(("old", "batches"), [(5, [2, 2, 1]), (4, [2, 2, 0]), (0, [0])])
def test_the_prune_deletes_in_batches_oldest_first(user, clock, old, batches):
    for _ in range(old):
        sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
        clock.advance(minutes=1)
    clock.advance(days=90)
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)

    with CaptureQueriesContext(connection) as queries:
        assert sms_messages_prune(batch=2) == old

    deletes = [query["sql"] for query in queries if query["sql"].startswith("DELETE")]
    # One statement per batch, each with its LIMIT, until one deletes less than a batch.
    assert len(deletes) == len(batches)
    assert all("LIMIT 2" in sql and "ORDER BY" in sql for sql in deletes)
    assert SmsMessage.objects.count() == 1


def test_the_prune_deletes_a_large_table_in_batches_of_a_thousand(user, clock):
    now = clock.now
    SmsMessage.objects.bulk_create(
        SmsMessage(user=user, to="+41791234567", created_at=now - timedelta(days=91))
        for _ in range(2500)
    )

    with CaptureQueriesContext(connection) as queries:
        assert sms_messages_prune() == 2500

    assert sum(query["sql"].startswith("DELETE") for query in queries) == 3
    assert not SmsMessage.objects.exists()


def test_a_retention_shorter_than_a_limit_window_is_refused(user, clock, settings):
    settings.SMS_MESSAGES_KEPT_FOR = timedelta(hours=23)
    sms_send(user=user, to=number("+41791234567"), body=BODY, ip=None)
    clock.advance(days=2)

    errors = [error for error in checks.run_checks() if error.id == "mfa.E001"]
    assert [error.msg for error in errors] == [
        "SMS_MESSAGES_KEPT_FOR (23 hours) is shorter than the longest time that the SMS "
        "limits and codes read the record of a text (24 hours): set SMS_MESSAGES_KEPT_DAYS "
        "to at least 1."
    ]
    with pytest.raises(CommandError, match="SMS_MESSAGES_KEPT_FOR"):
        call_command("sms_limits_prune", stdout=StringIO())
    assert SmsMessage.objects.count() == 1  # nothing deleted
    assert SmsLimitKey.objects.count() == 3  # user, number, block: none pruned either


def test_the_shortest_retention_follows_the_limit_windows(settings):
    # A limit read over a longer window (here 100 days) raises the floor with it.
    settings.LIMITS = {**settings.LIMITS, "SMS_PER_USER_DAY": {"window": timedelta(days=100),
                                                                "max": 10}}

    errors = [error for error in checks.run_checks() if error.id == "mfa.E001"]
    assert len(errors) == 1
    assert "(100 days)" in errors[0].msg
    assert "at least 100." in errors[0].msg

    settings.SMS_MESSAGES_KEPT_FOR = timedelta(days=100)
    assert not [error for error in checks.run_checks() if error.id == "mfa.E001"]


def test_the_default_retention_passes_the_checks():
    assert not [error for error in checks.run_checks() if error.id.startswith("mfa.")]


@pytest.mark.parametrize("ip", ["10.0.0.1", None])
@pytest.mark.parametrize("with_user", [True, False])
def test_the_limit_counts_are_those_of_the_rows(make_user, clock, ip, with_user):
    """sms_limit_counts, written as SQL, counts what the rows say: each limit's kind of
    match within its own window."""
    from django.utils import timezone

    from mfa.sending import sms_limit_counts

    ada, grace = make_user(email="ada@example.com"), make_user(email="grace@example.com")
    rows = [  # (user, number, ip, hours ago)
        (ada, "+41791234567", "10.0.0.1", 0.1),
        (ada, "+41791234599", "10.0.0.2", 0.5),  # the same block of 100
        (grace, "+41791234567", "10.0.0.3", 2),  # the number, but a day's window only
        (grace, "+41791239999", "10.0.0.1", 0.2),  # the IP only
        (None, "+41791234501", None, 0.3),  # nobody's, no IP: the block
        (ada, "+41791234567", "10.0.0.1", 30),  # outside every window
        (grace, "+33612345678", "10.0.0.9", 0.1),  # nothing in common
    ]
    now = timezone.now()
    for who, to, from_ip, hours in rows:
        SmsMessage.objects.create(
            user=who, to=to, ip_address=from_ip, created_at=now - timedelta(hours=hours)
        )
    user = ada if with_user else None
    counts = sms_limit_counts(user=user, e164="+41791234567", ip=ip, now=now)

    matches = {
        "user": lambda m: user is not None and m.user_id == user.pk,
        "number": lambda m: m.to.as_e164 == "+41791234567",
        "number_block": lambda m: m.to.as_e164.startswith("+417912345"),
        "ip": lambda m: ip is not None and m.ip_address == ip,
    }
    expected = {
        (kind, rule): sum(
            1 for m in SmsMessage.objects.all()
            if m.created_at > rule.since(now) and matches[kind](m)
        )
        for kind, names in LIMIT_NAMES.items()
        if (kind != "user" or user is not None) and (kind != "ip" or ip)
        for rule in (limit(name) for name in names)
    }
    assert counts == expected
    assert any(expected.values())
