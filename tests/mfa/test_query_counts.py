"""What each sign-in step costs in queries. A change here is a change of cost: look before
you update a number."""

import datetime

import pytest

from mfa import sms


@pytest.fixture
def remembered(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in()
    client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    client.post("/signout/")
    sms.outbox.clear()


def test_password_step_that_sends_a_code(enrolled_member, sign_in, django_assert_num_queries):
    enrolled_member()
    # 15, and one to find out that the member has no authenticator app (mfa.stages), which
    # comes after the remembered browser so that that path costs no more; and locking the
    # keys that the send limits count for (mfa.sending), with its savepoint pair in tests.
    with django_assert_num_queries(16 + 3):
        assert sign_in()["Location"] == "/signin/code/"


def test_password_step_of_a_member_with_an_authenticator_app(
    enrolled_member, add_authenticator, sign_in, django_assert_num_queries
):
    add_authenticator(enrolled_member())
    with django_assert_num_queries(8):  # no code to make and send
        assert sign_in()["Location"] == "/signin/app/"


def test_authenticator_app_step(
    enrolled_member, add_authenticator, sign_in, client, app_code, django_assert_num_queries
):
    device = add_authenticator(enrolled_member())
    sign_in()
    with django_assert_num_queries(21):  # as the SMS code step: 15, and 3 savepoint pairs
        assert client.post("/signin/app/", {"code": app_code(device)})["Location"] == "/"


def test_code_step(enrolled_member, sign_in, client, last_code, django_assert_num_queries):
    enrolled_member()
    sign_in()
    with django_assert_num_queries(21):  # 15, and 3 savepoint pairs of the test transaction
        assert client.post("/signin/code/", {"code": last_code()})["Location"] == "/"


def test_enrollment_step(make_member, sign_in, client, django_assert_num_queries):
    make_member()
    sign_in()
    # 14, and locking the send limits' keys with its savepoint pair (mfa.sending).
    with django_assert_num_queries(14 + 3):
        response = client.post("/signin/phone/", {"country": "CH", "number": "0791234567"})
    assert response["Location"] == "/signin/code/"


def test_remembered_browser_costs_at_most_one_query_more_than_the_password_alone(
    remembered, make_member, sign_in, client, settings, django_assert_num_queries
):
    with django_assert_num_queries(16):
        assert sign_in()["Location"] == "/"

    # The floor: a member to whom MFA does not apply yet signs in with the password alone.
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)
    make_member(email="grace@example.com")
    client.post("/signout/")
    with django_assert_num_queries(16):
        assert sign_in(email="grace@example.com")["Location"] == "/"
