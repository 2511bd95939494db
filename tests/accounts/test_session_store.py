"""accounts.session_store: a save of what the last committed save wrote writes nothing."""

import time
from unittest import mock

import pytest

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
