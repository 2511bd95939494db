"""The code step's writes are compiled statements (core.compiled): each writes what the ORM's
statement wrote, in every branch (issue 12). On SQLite and PostgreSQL, as the suite runs."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from mfa.codes import PhoneOnFile, _code_make, attempt_key, code_digest, code_prepare
from mfa.models import SmsDevice, resend_cooldown_since, stored_number
from mfa.services import phone_confirm

pytestmark = pytest.mark.django_db

ON_FILE, OTHER = "+41791234567", "+41797654321"
COLUMNS = [f.attname for f in SmsDevice._meta.concrete_fields if f.attname not in ("id", "user_id")]


def row(device) -> dict:
    stored = SmsDevice.objects.get(pk=device.pk)
    return {name: getattr(stored, name) for name in COLUMNS}


def held(device) -> dict:
    return {name: getattr(device, name) for name in COLUMNS}


# Each state of the device the code's UPDATE decides on: the cooldown (never sent, sent
# just now, exactly a cooldown ago, longer ago), the attempt the current code is for, and
# the number on file or none.
STATES = {
    "never sent": {},
    "sent just now": {"last_generated_timestamp": timedelta(0)},
    "sent a cooldown ago": {"last_generated_timestamp": settings.MFA_RESEND_COOLDOWN},
    "sent long ago, same attempt": {
        "last_generated_timestamp": timedelta(hours=1), "attempt_key": "mine",
    },
    "sent long ago, other attempt": {
        "last_generated_timestamp": timedelta(hours=1), "attempt_key": "theirs",
    },
    "no phone on file yet": {"confirmed": False, "number": "", "pending_number": OTHER},
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("to", [ON_FILE, OTHER])
@pytest.mark.parametrize("first_phone", [False, True])
def test_the_code_update_writes_what_the_orms_wrote(make_user, state, to, first_phone):
    now = timezone.now()
    fields = {"number": ON_FILE, "attempt_failures": 3, "throttling_failure_count": 3,
              "token": "old", "attempt_key": "", "created_at": now,
              "valid_until": now, **STATES[state]}
    if "last_generated_timestamp" in fields:
        fields["last_generated_timestamp"] = now - fields["last_generated_timestamp"]
    if fields["attempt_key"]:
        fields["attempt_key"] = attempt_key(fields["attempt_key"])
    orm_device, compiled_device = (
        SmsDevice.objects.create(user=make_user(email), name="Mobile phone", **fields)
        for email in ("orm@example.com", "compiled@example.com")
    )
    key = attempt_key("mine")
    values = {"token": code_digest("mine", "123456"), "now": now,
              "since": resend_cooldown_since(now), "until": now + settings.MFA_CODE_VALID_FOR,
              "key": key, "number": stored_number(PhoneNumber.from_string(to))}
    query = _code_make[first_phone]
    devices, changes = query.build(pk=orm_device.pk, **values)
    by_orm = devices.update(**changes)
    by_compiled = query(pk=compiled_device.pk, **values)
    assert by_compiled == by_orm
    assert row(compiled_device) == row(orm_device)
    made = row(compiled_device)
    # The rules, spelled out for the states above.
    assert by_orm == (
        state not in ("sent just now", "sent a cooldown ago")
        and not (first_phone and fields.get("confirmed", True))
    )
    if by_orm:
        same_attempt = fields["attempt_key"] == attempt_key("mine")
        assert made["attempt_failures"] == (3 if same_attempt else 0)
        assert made["pending_number"] == ("" if to == fields["number"] else to)
        assert made["last_generated_timestamp"] == now and made["attempt_key"] == key
    else:
        assert made["token"] == "old"


def test_a_first_phone_s_code_is_refused_once_a_phone_is_on_file(make_user):
    device = SmsDevice.objects.create(user=make_user(), name="Mobile phone", number=ON_FILE)
    before = row(device)
    with transaction.atomic(), pytest.raises(PhoneOnFile):
        code_prepare(device=device, attempt="mine", to=PhoneNumber.from_string(OTHER),
                     ip="192.0.2.1", first_phone=True)
    assert row(device) == before


def locked(device) -> SmsDevice:
    read = SmsDevice.objects.select_for_update().get(pk=device.pk)
    read.user = device.user
    return read


@pytest.fixture
def phone_with_code(make_user):
    now = timezone.now()
    return SmsDevice.objects.create(
        user=make_user(), name="Mobile phone", number=ON_FILE, attempt_key=attempt_key("mine"),
        token=code_digest("mine", "123456"), valid_until=now + timedelta(minutes=5),
        last_generated_timestamp=now, throttling_failure_count=2,
        throttling_failure_timestamp=now - timedelta(minutes=1), attempt_failures=0,
    )


def test_the_right_code_s_write_is_what_the_device_holds(phone_with_code):
    with transaction.atomic():
        device = locked(phone_with_code)
        assert device.code_check(
            attempt_key=attempt_key("mine"), token=code_digest("mine", "123456")
        ) == ("ok", None)
    assert row(device) == held(device)
    assert (device.token, device.throttling_failure_count, device.last_generated_timestamp) == (
        None, 0, None,
    )


def test_each_wrong_code_s_write_is_what_the_device_holds(phone_with_code, settings):
    settings.MFA_THROTTLE_FACTOR = 0  # no back-off between the tries here
    for tries in range(1, settings.MFA_CODE_MAX_FAILURES + 1):
        with transaction.atomic():
            device = locked(phone_with_code)
            verdict, _ = device.code_check(
                attempt_key=attempt_key("mine"), token=code_digest("mine", "654321")
            )
        assert verdict == "wrong"
        assert row(device) == held(device)
        assert (device.code_failures, device.attempt_failures) == (tries, tries)
        assert device.throttling_failure_count == 2 + tries
    # The last try killed the code.
    assert device.token is None and row(device)["token"] is None


def test_the_phone_bound_is_what_the_device_holds(make_user):
    device = SmsDevice.objects.create(
        user=make_user(), name="Mobile phone", confirmed=False, pending_number=OTHER
    )
    with transaction.atomic():
        bound = phone_confirm(device=locked(device), ip="192.0.2.1", user_agent="x", locked=True)
    assert row(bound) == held(bound)
    assert (bound.number, bound.pending_number, bound.confirmed) == (OTHER, "", True)
