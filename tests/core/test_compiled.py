"""core.compiled runs the SQL that the ORM built once, with new values, and reads its rows
back as the ORM does; on SQLite and on PostgreSQL (the suite runs on both)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.db import connection, connections, transaction
from django.db.models import Case, F, Value, When
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError
from phonenumber_field.phonenumber import PhoneNumber

from accounts.models import SecurityEvent, User
from core.compiled import (
    IPAddress,
    columns,
    compiled_insert,
    compiled_select,
    compiled_update,
    model_from_row,
    saved,
)
from mfa.models import SmsDevice, SmsLimitKey, SmsMessage

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = ("pk", "number", "confirmed", "valid_until", "user__email", "user__is_active")


def phones_query(user_id, email, after):
    return SmsDevice.objects.filter(
        user_id=user_id, user__email=email, valid_until__gt=after
    ).values_list(*FIELDS)


phones = compiled_select(phones_query, user_id=int, email=str, after=datetime)


@pytest.fixture
def two_phones(make_user):
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    when = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)
    for user, number in ((ada, "+41791234567"), (bob, "+41797654321")):
        SmsDevice.objects.create(
            user=user, name="Mobile phone", number=number, confirmed=True, valid_until=when
        )
    return ada, bob, when


def test_the_rows_are_the_orms_with_each_call_s_values(two_phones):
    ada, bob, when = two_phones
    before = when - timedelta(seconds=1)
    for user in (ada, bob, ada):
        expected = list(phones_query(user.pk, user.email, before))
        assert phones.all(user_id=user.pk, email=user.email, after=before) == expected
        assert len(expected) == 1
    # Each value counts: another member's address, a later time, find nothing.
    assert phones.all(user_id=ada.pk, email=bob.email, after=before) == []
    assert phones.first(user_id=ada.pk, email=ada.email, after=when) is None


def test_columns_are_read_back_as_the_orm_reads_them(two_phones):
    ada, _, when = two_phones
    row = phones.first(user_id=ada.pk, email=ada.email, after=when - timedelta(hours=1))
    _, number, confirmed, valid_until, email, is_active = row
    assert isinstance(number, PhoneNumber) and number.as_e164 == "+41791234567"
    assert confirmed is True and is_active is True  # not SQLite's 1
    assert valid_until == when and valid_until.tzinfo is not None
    assert email == "ada@example.com"


def test_one_statement_a_call_and_the_building_once(two_phones, django_assert_num_queries):
    ada, _, when = two_phones
    query = compiled_select(phones_query, user_id=int, email=str, after=datetime)
    built = 0
    real_build = query.build

    def counting_build(**values):
        nonlocal built
        built += 1
        return real_build(**values)

    query.build = counting_build
    for _ in range(3):
        with django_assert_num_queries(1):
            assert query.first(user_id=ada.pk, email=ada.email, after=when - timedelta(1))
    assert built == 1


def test_constants_of_the_query_stay_in_it(two_phones):
    ada, bob, _ = two_phones
    SmsDevice.objects.filter(user=bob).update(confirmed=False)
    confirmed_only = compiled_select(
        lambda user_id: SmsDevice.objects.filter(user_id=user_id, confirmed=True)
        .annotate(label=Value("phone"))
        .values_list("user__email", "label"),
        user_id=int,
    )
    assert confirmed_only.all(user_id=ada.pk) == [("ada@example.com", "phone")]
    assert confirmed_only.all(user_id=bob.pk) == []


def test_a_value_the_sql_does_not_take_is_refused_when_built(two_phones):
    ignored = compiled_select(lambda user_id: User.objects.values_list("pk"), user_id=int)
    with pytest.raises(ValueError, match="user_id"):
        ignored.all(user_id=1)


def test_none_is_refused_rather_than_meaning_is_null(two_phones):
    ada, _, when = two_phones
    with pytest.raises(ValueError, match="email"):
        phones.all(user_id=ada.pk, email=None, after=when)


def test_only_values_list_queries_and_known_kinds():
    with pytest.raises(TypeError):
        compiled_select(lambda: User.objects.all()).all()
    with pytest.raises(TypeError):
        by_flag = compiled_select(
            lambda ok: User.objects.filter(is_active=ok).values_list("pk"), ok=bool
        )
        by_flag.all(ok=True)


def test_a_locking_read_needs_a_transaction(two_phones):
    ada, _, _ = two_phones
    locked = compiled_select(
        lambda user_id: SmsDevice.objects.select_for_update()
        .filter(user_id=user_id)
        .values_list("pk"),
        user_id=int,
    )
    with pytest.raises(TransactionManagementError):
        locked.all(user_id=ada.pk)
    with transaction.atomic():
        assert len(locked.all(user_id=ada.pk)) == 1
    sql = locked._compiled(connections["default"]).sql
    assert ("FOR UPDATE" in sql) == connection.features.has_select_for_update


def test_each_thread_s_connection_builds_its_own(two_phones):
    ada, _, when = two_phones
    assert phones.first(user_id=ada.pk, email=ada.email, after=when - timedelta(1))
    mine = connections["default"].__dict__["compiled_queries"][phones.key]
    theirs = []

    def other_thread():
        own = connections["default"]
        try:
            theirs.append(phones.first(user_id=ada.pk, email=ada.email, after=when - timedelta(1)))
            theirs.append(own.__dict__["compiled_queries"][phones.key])
        finally:
            own.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert theirs[0][4] == "ada@example.com"
    assert theirs[1] is not mine


def test_an_update_changes_the_rows_its_values_pick(two_phones):
    ada, bob, when = two_phones
    later = when + timedelta(minutes=5)
    # A conditional expression as the sign-in's code UPDATE has, with values inside it.
    count_failure = compiled_update(
        lambda user_id, token, until: (
            SmsDevice.objects.filter(user_id=user_id),
            {
                "token": token,
                "valid_until": until,
                "code_failures": Case(
                    When(token=token, then=F("code_failures") + 1), default=Value(0)
                ),
            },
        ),
        user_id=int, token=str, until=datetime,
    )
    assert count_failure(user_id=ada.pk, token="123456", until=later) == 1
    ada_phone, bob_phone = (SmsDevice.objects.get(user=u) for u in (ada, bob))
    assert (ada_phone.token, ada_phone.valid_until, ada_phone.code_failures) == ("123456", later, 0)
    assert (bob_phone.token, bob_phone.valid_until) == (None, when)
    assert count_failure(user_id=ada.pk, token="123456", until=later) == 1
    assert SmsDevice.objects.get(user=ada).code_failures == 1
    assert count_failure(user_id=-1, token="1", until=later) == 0



def test_models_come_back_from_rows_of_all_their_columns(two_phones):
    ada, _, _ = two_phones
    with_member = compiled_select(
        lambda user_id: SmsDevice.objects.filter(user_id=user_id).values_list(
            *columns(SmsDevice), *(f"user__{name}" for name in columns(User))
        ),
        user_id=int,
    )
    row = with_member.first(user_id=ada.pk)
    width = len(columns(SmsDevice))
    phone, user = model_from_row(SmsDevice, row[:width]), model_from_row(User, row[width:])
    stored = SmsDevice.objects.select_related("user").get(user=ada)
    for field in SmsDevice._meta.concrete_fields:
        assert getattr(phone, field.attname) == getattr(stored, field.attname), field.name
    assert (user.pk, user.email, user.password) == (ada.pk, ada.email, ada.password)
    assert not phone._state.adding
    phone.name = "Work phone"
    phone.save(update_fields=["name"])
    assert SmsDevice.objects.get(user=ada).name == "Work phone"


def test_ip_addresses_go_in_as_the_orm_passes_them(make_user):
    for ip in ("10.0.0.7", "2001:db8:0:0:0:0:0:5"):
        AccessAttempt.objects.create(
            username="ada@example.com", ip_address=ip, user_agent="x", failures_since_start=1
        )
    by_ip = compiled_select(
        lambda ip: AccessAttempt.objects.filter(ip_address=ip).values_list("ip_address"),
        ip=IPAddress,
    )
    assert by_ip.all(ip="10.0.0.7") == [("10.0.0.7",)]
    # Written out longer than it is stored: the ORM's own normalization finds it.
    assert by_ip.all(ip="2001:0db8::0005") == list(
        AccessAttempt.objects.filter(ip_address="2001:0db8::0005").values_list("ip_address")
    ) == [("2001:db8::5",)]
    assert by_ip.all(ip="10.0.0.8") == []


# compiled_insert: the row as Model.objects.create() (or bulk_create) would write it.



def _row(model, pk, *, leave=("id",)):
    stored = model.objects.get(pk=pk)
    return {f.attname: getattr(stored, f.attname) for f in model._meta.concrete_fields
            if f.attname not in leave}


def test_an_insert_writes_the_row_that_create_writes(make_user):
    ada = make_user("ada@example.com")
    when = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)
    record, text = compiled_insert(SecurityEvent), compiled_insert(SmsMessage)
    for fields in (
        # Relations, an IPv6 address to clean, JSON, and a callable default (created_at).
        {"kind": "code_failed", "actor": ada, "subject": ada, "ip_address": "2001:DB8::1",
         "user_agent": "Firefox", "detail": {"method": "sms", "n": [1, 2]}},
        # None where the columns take NULL, the defaults of the others.
        {"kind": "signin_succeeded"},
    ):
        made = record(SecurityEvent(**fields))
        created = SecurityEvent.objects.create(**fields)
        assert made.pk and made.pk != created.pk and not made._state.adding
        assert _row(SecurityEvent, made.pk, leave=("id", "created_at")) == _row(
            SecurityEvent, created.pk, leave=("id", "created_at")
        )
        # The default made for the instance, at each call (not once, when compiled).
        assert SecurityEvent.objects.get(pk=made.pk).created_at == made.created_at
        assert made.created_at <= created.created_at
    # A phone number and a given time, the defaults of status and the provider's fields.
    made = text(SmsMessage(user=ada, to="+41 79 123 45 67", ip_address=None, created_at=when))
    created = SmsMessage.objects.create(
        user=ada, to="+41 79 123 45 67", ip_address=None, created_at=when
    )
    assert _row(SmsMessage, made.pk) == _row(SmsMessage, created.pk)
    assert _row(SmsMessage, made.pk)["status"] == "pending"


def test_an_insert_runs_pre_save_auto_now_add(monkeypatch):
    # Our models have no auto_now_add field; axes' AccessAttempt has one, and save receivers,
    # which compiled_insert refuses (the test above): looked past here, for the field alone.
    monkeypatch.setattr("core.compiled._has_save_receivers", lambda model: False)
    before = datetime.now(UTC)
    made = compiled_insert(AccessAttempt)(
        AccessAttempt(username="ada@example.com", ip_address="192.0.2.1", user_agent="x",
                      get_data="", post_data="", http_accept="", path_info="/signin/",
                      failures_since_start=1)
    )
    stored = AccessAttempt.objects.get(pk=made.pk)
    assert stored.attempt_time == made.attempt_time and stored.attempt_time >= before


def test_an_insert_is_one_statement_built_once(make_user, django_assert_num_queries):
    record = compiled_insert(SecurityEvent)
    with django_assert_num_queries(1):
        record(SecurityEvent(kind="signin_succeeded"))
    compiled = connections["default"].__dict__["compiled_queries"][(record.key, 1, True)]
    for _ in range(2):
        with django_assert_num_queries(1):
            record(SecurityEvent(kind="signin_succeeded"))
    assert connections["default"].__dict__["compiled_queries"][(record.key, 1, True)] is compiled
    assert SecurityEvent.objects.count() == 3


def test_an_insert_writes_only_new_instances(make_user):
    record = compiled_insert(SecurityEvent)
    event = record(SecurityEvent(kind="signin_succeeded"))
    with pytest.raises(ValueError):
        record(event)
    with pytest.raises(ValueError):
        record(SecurityEvent(pk=10_000, kind="signin_succeeded"))
    assert SecurityEvent.objects.count() == 1


def test_an_upsert_makes_new_rows_and_updates_those_it_meets():
    upsert = compiled_insert(SmsLimitKey, unique_fields=["key"], update_fields=["last_used_at"])
    first = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    later = first + timedelta(minutes=5)
    upsert.many([SmsLimitKey(key=key, last_used_at=first) for key in ("ip:1", "user:7")])
    upsert.many(
        [SmsLimitKey(key=key, last_used_at=later) for key in ("ip:1", "number:+41", "user:7")]
    )
    upsert.many([])
    rows = dict(SmsLimitKey.objects.values_list("key", "last_used_at"))
    assert rows == {"ip:1": later, "number:+41": later, "user:7": later}
    # As bulk_create(update_conflicts=True) leaves them: the same rows, the same values.
    ids = dict(SmsLimitKey.objects.values_list("key", "pk"))
    SmsLimitKey.objects.bulk_create(
        [SmsLimitKey(key=key, last_used_at=first) for key in ("ip:1", "user:7")],
        update_conflicts=True, unique_fields=["key"], update_fields=["last_used_at"],
    )
    upsert.many([SmsLimitKey(key="ip:1", last_used_at=later)])
    assert dict(SmsLimitKey.objects.values_list("key", "pk")) == ids
    assert dict(SmsLimitKey.objects.values_list("key", "last_used_at")) == {
        "ip:1": later, "number:+41": later, "user:7": first,
    }


def test_an_upsert_of_one_returns_the_key_of_the_row_it_met(make_user):
    ada = make_user("ada@example.com")
    upsert = compiled_insert(SmsDevice, unique_fields=["user"], update_fields=["user"])
    made = upsert(SmsDevice(user=ada, name="Mobile phone", confirmed=False))
    again = upsert(SmsDevice(user=ada, name="Other", confirmed=True))
    assert made.pk == again.pk == SmsDevice.objects.get(user=ada).pk
    assert SmsDevice.objects.get(user=ada).name == "Mobile phone"


def test_an_insert_needs_an_automatic_primary_key():
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(TypeError):
        compiled_insert(DBTaskResult)  # its key is a UUID that the row is given


def test_an_insert_refuses_a_model_with_save_receivers(db):
    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=SecurityEvent)
    try:
        with pytest.raises(TypeError, match="save receivers"):
            compiled_insert(SecurityEvent)(SecurityEvent(kind=SecurityEvent.Kind.SIGNIN_SUCCEEDED))
    finally:
        post_save.disconnect(receiver, sender=SecurityEvent)


def test_models_written_by_compiled_updates_in_place_of_save_have_no_save_receivers():
    # code_check and the phone's binding (SmsDevice) and the session store's save (Session)
    # used save(update_fields=...), which sends these signals; a compiled update does not.
    for model in (SmsDevice, Session):
        assert not pre_save.has_listeners(model), model
        assert not post_save.has_listeners(model), model
    assert pre_save.has_listeners(AccessAttempt) or post_save.has_listeners(AccessAttempt)


def test_a_compiled_update_for_a_save_raises_as_save_does_when_the_row_is_gone(two_phones):
    ada, _, _ = two_phones
    saved(SmsDevice, 1)  # a row written: nothing to say
    phone = SmsDevice.objects.get(user=ada)
    SmsDevice.objects.filter(pk=phone.pk).delete()
    with pytest.raises(SmsDevice.NotUpdated):
        phone.save(update_fields=["name"])  # Django's own, for comparison
    with pytest.raises(SmsDevice.NotUpdated):
        saved(SmsDevice, 0)
