"""The send limits hold exactly when many enrollments race (issue 10 item 4; SECURITY 15).

Real threads, each with its own PostgreSQL connection, released together: without the
locks of mfa.sending they all counted the same rows and overshot the limits.
"""

import functools

import pytest
from phonenumber_field.phonenumber import PhoneNumber

from core.limits import limit
from mfa import sms
from mfa.models import SmsMessage
from mfa.sending import SmsNotAllowed
from mfa.services import phone_code_request
from tests.races import outcomes

RACERS = 20


def enroll_at_once(users, numbers, ips) -> list[str]:
    """Each user asks for a code to their number from their IP, all at the same moment;
    what each came to ("sent" or the refusal's code)."""

    def enroll(user, number, ip):
        phone_code_request(user=user, number=PhoneNumber.from_string(number), attempt="a", ip=ip)

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
