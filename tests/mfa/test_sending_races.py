"""The send limits hold exactly when many enrollments race (issue 10 item 4; SECURITY 15).

Real threads, each with its own PostgreSQL connection, released together: without the
locks of mfa.sending they all counted the same rows and overshot the limits.
"""

import functools
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from core.limits import limit
from mfa import sending, sms
from mfa.models import SmsLimitKey, SmsMessage
from mfa.sending import SmsNotAllowed, sms_limit_keys_prune, sms_messages_prune, sms_send
from mfa.services import first_phone_code_request
from tests.races import outcomes

RACERS = 20


def enroll_at_once(users, numbers, ips) -> list[str]:
    """Each user asks for a code to their number from their IP, all at the same moment;
    what each came to ("sent" or the refusal's code)."""

    def enroll(user, number, ip):
        first_phone_code_request(
            user=user, device=None, number=PhoneNumber.from_string(number), attempt="a", ip=ip
        )

    return outcomes(
        *(functools.partial(enroll, *args) for args in zip(users, numbers, ips, strict=True)),
        error=SmsNotAllowed, ok="sent",
    )


@pytest.fixture
def racers(make_user):
    return [make_user(f"racer{index}@example.com") for index in range(RACERS)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_adjacent_numbers_from_many_accounts_at_once_get_exactly_the_block_limit(racers):
    most = limit("SMS_PER_NUMBER_BLOCK_HOUR").max
    numbers = [f"+417912345{index:02d}" for index in range(RACERS)]
    ips = [f"198.51.100.{index}" for index in range(RACERS)]  # no IP limit in the way

    outcomes = enroll_at_once(racers, numbers, ips)

    assert outcomes.count("sent") == most == 10
    assert outcomes.count("limit-number-block") == RACERS - most
    assert len(sms.outbox) == SmsMessage.objects.count() == most


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_number_from_many_accounts_at_once_gets_exactly_the_number_limit(racers):
    most = limit("SMS_PER_NUMBER_HOUR").max
    ips = [f"198.51.100.{index}" for index in range(RACERS)]

    outcomes = enroll_at_once(racers, ["+41791234567"] * RACERS, ips)

    assert outcomes.count("sent") == most == 5
    assert outcomes.count("limit-number") == RACERS - most
    assert len(sms.outbox) == SmsMessage.objects.count() == most


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_accounts_from_one_ip_at_once_get_exactly_the_ip_limit(racers):
    most = limit("SMS_PER_IP_HOUR").max
    # Each number in a block of its own: only the IP is shared.
    numbers = [f"+4179{index:03d}4567" for index in range(RACERS)]

    outcomes = enroll_at_once(racers, numbers, ["203.0.113.7"] * RACERS)

    assert outcomes.count("sent") == most == 10
    assert outcomes.count("limit-ip") == RACERS - most
    assert len(sms.outbox) == SmsMessage.objects.count() == most


# Pruning the limit keys while sends run (mfa.sending.sms_limit_keys_prune) --------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_prune_waits_for_a_send_holding_a_key_and_then_keeps_it(make_user, monkeypatch):
    user = make_user()
    long_ago = timezone.now() - timedelta(days=2)
    keys = [f"user:{user.pk}", "number:+41791234567", "block:+417912345", "ip:203.0.113.7"]
    for key in [*keys, "ip:192.0.2.99"]:  # the last one no send uses: the prune's to delete
        SmsLimitKey.objects.create(key=key, last_used_at=long_ago)
    counting, go = threading.Event(), threading.Event()
    check_limits = sending._check_limits

    def check_slowly(**kwargs):
        # The send holds its keys' row locks now (its upsert is done), until its commit.
        counting.set()
        assert go.wait(10)
        check_limits(**kwargs)

    monkeypatch.setattr(sending, "_check_limits", check_slowly)
    pruned = []

    def send():
        try:
            sms_send(
                user=user, to=PhoneNumber.from_string("+41791234567"), body="1", ip="203.0.113.7"
            )
        finally:
            connection.close()

    def prune():
        try:
            pruned.append(sms_limit_keys_prune())
        finally:
            connection.close()

    sender, pruner = threading.Thread(target=send), threading.Thread(target=prune)
    sender.start()
    assert counting.wait(10)
    pruner.start()
    pruner.join(0.5)
    assert pruner.is_alive()  # waiting for the send's locks, not deleting under it
    go.set()
    sender.join()
    pruner.join()

    # Only the key no send used went; the send's keys stay, marked as used by it.
    assert pruned == [1]
    assert set(SmsLimitKey.objects.values_list("key", flat=True)) == set(keys)
    assert not SmsLimitKey.objects.filter(last_used_at__lte=long_ago).exists()
    assert SmsMessage.objects.get().status == SmsMessage.Status.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_keys_deleted_while_many_sends_race_do_not_let_a_limit_overshoot(racers):
    most = limit("SMS_PER_NUMBER_HOUR").max
    ips = [f"198.51.100.{index}" for index in range(RACERS)]
    racing = threading.Event()

    def delete_keys():
        # Worse than any prune: every key, in use or not, as fast as it can.
        try:
            while not racing.is_set():
                SmsLimitKey.objects.all().delete()
        finally:
            connection.close()

    deleter = threading.Thread(target=delete_keys)
    deleter.start()
    try:
        outcomes = enroll_at_once(racers, ["+41791234567"] * RACERS, ips)
    finally:
        racing.set()
        deleter.join()

    assert outcomes.count("sent") == most == 5
    assert outcomes.count("limit-number") == RACERS - most
    assert len(sms.outbox) == SmsMessage.objects.count() == most


# Pruning the messages while sends run (mfa.sending.sms_messages_prune) -------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_messages_pruned_while_many_sends_race_leave_the_limit_exact(racers, settings):
    settings.SMS_MESSAGES_KEPT_FOR = timedelta(days=1)  # the shortest allowed
    most = limit("SMS_PER_NUMBER_HOUR").max
    long_ago = timezone.now() - timedelta(days=2)
    SmsMessage.objects.bulk_create(
        SmsMessage(to="+41791234567", ip_address="198.51.100.1", created_at=long_ago)
        for _ in range(200)
    )
    ips = [f"198.51.100.{index}" for index in range(RACERS)]
    racing, pruned = threading.Event(), []

    def prune():
        # A batch at a time, as fast as it can, beside the sends of the same number.
        try:
            while not racing.is_set():
                pruned.append(sms_messages_prune(batch=1))
        finally:
            connection.close()

    pruner = threading.Thread(target=prune)
    pruner.start()
    try:
        outcomes = enroll_at_once(racers, ["+41791234567"] * RACERS, ips)
    finally:
        racing.set()
        pruner.join()

    assert outcomes.count("sent") == most == 5
    assert outcomes.count("limit-number") == RACERS - most
    assert sum(pruned) + sms_messages_prune() == 200
    assert len(sms.outbox) == SmsMessage.objects.count() == most
