"""accounts.session_store: a save of what the last committed save wrote writes nothing."""

import logging
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.session_store import SessionStore

pytestmark = pytest.mark.django_db


def _saved(store, capture):
    with capture(execute=True):  # the save counts as written once its transaction commits
        store.save()


def test_the_same_data_saved_again_writes_nothing_even_a_second_later(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    store = SessionStore()
    store["signin_pending"] = {"user_id": 1}
    _saved(store, django_capture_on_commit_callbacks)
    # The encoding is signed with the time in seconds: a second later it differs, the data
    # does not (this was one sign-in in some 400 writing its session twice).
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 2):
        with django_assert_num_queries(0):
            store.save()
        store["signin_pending"] = {"user_id": 2}
        with django_assert_num_queries(1):
            store.save()
    assert SessionStore(store.session_key).load() == {"signin_pending": {"user_id": 2}}


def test_a_save_not_committed_is_made_again(django_assert_num_queries):
    store = SessionStore()
    store["a"] = 1
    store.save()  # inside the test's transaction: never known to be committed
    with django_assert_num_queries(1):
        store.save()


# Reading a session is Django's get(), compiled (the module's doc): each answer is Django's
# own store's, which reads the same rows.


def _stored(data=None, *, expires_in=3600):
    store = SessionStore()
    store.update(data or {"a": 1})
    store.set_expiry(expires_in)
    store.save()
    return store.session_key


def _read(store_class, key):
    store = store_class(key)
    data = store.load()
    return data, store.session_key


@pytest.mark.parametrize(
    "case", ["live", "expired", "unknown key", "tampered data", "invalid key"]
)
def test_a_session_reads_as_djangos_store_reads_it(case, caplog):
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore
    from django.contrib.sessions.models import Session

    key = _stored({"signin_pending": {"user_id": 7}})
    if case == "expired":
        Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    elif case == "unknown key":
        key = "x" * 32
    elif case == "tampered data":
        Session.objects.filter(pk=key).update(session_data="not:signed")
    elif case == "invalid key":
        key = "short"
    with caplog.at_level(logging.WARNING, logger="django.security"):
        ours = _read(SessionStore, key)
        ours_log = [(r.name, r.getMessage()) for r in caplog.records]
        caplog.clear()
        djangos = _read(DjangoStore, key)
        djangos_log = [(r.name, r.getMessage()) for r in caplog.records]
    assert ours == djangos
    assert ours_log == djangos_log
    assert ours[0].get("signin_pending") == ({"user_id": 7} if case == "live" else None)
    # A key that names no live row is forgotten (a new one comes with the next save); a
    # row that does not decode keeps its key, and says so in the security log.
    assert (ours[1] is None) == (case in ("expired", "unknown key", "invalid key"))
    if case == "tampered data":
        assert ours_log == [("django.security.SuspiciousSession", "Session data corrupted")]


def test_a_key_that_names_no_live_session_is_unknown_and_a_live_one_is_not():
    key = _stored()
    store = SessionStore(key)
    store.load()
    assert not store._key_unknown and store.session_key == key
    expired = _stored(expires_in=-1)
    store = SessionStore(expired)
    assert store.load() == {}
    assert store._key_unknown and store.session_key is None


def test_the_row_read_is_the_orms_row():
    from django.contrib.sessions.models import Session

    key = _stored()
    row = SessionStore(key)._get_session_from_db()
    stored = Session.objects.get(pk=key)
    assert (row.session_key, row.session_data, row.expire_date) == (
        stored.session_key, stored.session_data, stored.expire_date,
    )
    assert not row._state.adding


def test_a_save_writes_the_row_of_its_key_and_fails_when_that_row_is_gone():
    from django.contrib.sessions.backends.base import UpdateError
    from django.contrib.sessions.models import Session

    key = _stored({"a": 1})
    other = _stored({"b": 2})
    store = SessionStore(key)
    store["a"] = 2
    store.set_expiry(7200)
    store.save()
    assert SessionStore(key).load()["a"] == 2
    assert SessionStore(other).load()["b"] == 2
    row = Session.objects.get(pk=key)
    assert abs((row.expire_date - timezone.now()).total_seconds() - 7200) < 60
    # As Django's save(): the row gone (signed out elsewhere) is an UpdateError, which
    # SessionMiddleware turns into "the session was deleted before the request completed".
    Session.objects.filter(pk=key).delete()
    store["a"] = 3
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(pk=key).exists()
