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
    # 13: the enterprise-login domain, axes' count, the member, the phone with the member's
    # other factors (mfa.factors.signin_phone; after the remembered browser, so that that
    # path costs no more), then one
    # transaction (its savepoint pair here, inside the test's) with the code made in one
    # conditional UPDATE (mfa.codes), the send's limit keys, count and row (mfa.sending)
    # and the new session in one INSERT (accounts.session_store); then the send's status.
    with django_assert_num_queries(13):
        assert sign_in()["Location"] == "/signin/code/"


def test_password_step_of_a_member_with_an_authenticator_app(
    enrolled_member, add_authenticator, sign_in, django_assert_num_queries
):
    add_authenticator(enrolled_member())
    with django_assert_num_queries(5):  # no code to make and send
        assert sign_in()["Location"] == "/signin/app/"


def test_authenticator_app_step(
    enrolled_member, add_authenticator, sign_in, client, app_code, django_assert_num_queries
):
    device = add_authenticator(enrolled_member())
    sign_in()
    # 12: one more than the SMS code step, the app being read before django_otp's
    # verify_token reads it again under its lock.
    with django_assert_num_queries(12):
        assert client.post("/signin/app/", {"code": app_code(device)})["Location"] == "/"


def test_code_step(enrolled_member, sign_in, client, last_code, django_assert_num_queries):
    enrolled_member()
    sign_in()
    # 10: the session, then one transaction (a savepoint pair here): the member with their
    # phone read under its row lock (the one read: mfa.factors.pending_phone), the code
    # checked and used up (one UPDATE), axes' one question (accounts.lockout), last_login,
    # the security event and the session's row renamed to its new key with the signed-in
    # data (one UPDATE: accounts.session_store).
    with django_assert_num_queries(10):
        assert client.post("/signin/code/", {"code": last_code()})["Location"] == "/"


def test_enrollment_step(make_member, sign_in, client, django_assert_num_queries):
    make_member()
    sign_in()
    # 11: the session, the member, the member's device in whatever state (one read for "a
    # phone on file?" and the device the code goes to: mfa.services.member_device), then
    # one transaction (a savepoint pair here): the device made (one INSERT ... ON CONFLICT,
    # no savepoint of its own), the code in one UPDATE made only while no phone is on file,
    # the send's limit keys, count and row (mfa.sending); then the send's status.
    with django_assert_num_queries(11):
        response = client.post("/signin/phone/", {"country": "CH", "number": "0791234567"})
    assert response["Location"] == "/signin/code/"


def test_remembered_browser_costs_one_write_more_than_the_password_alone(
    remembered, make_member, sign_in, client, settings, django_assert_num_queries
):
    # The password step's 3 reads, then one transaction (a savepoint pair here): the
    # browser marked used, last_login, the security event, the session; axes has nothing
    # to reset (accounts.lockout), having counted no failures. Here 1 more: inside the
    # test's transaction the session's save is never known to be committed (on_commit),
    # so the response's save writes it again (tests/mfa/test_query_counts FLOW_QUERIES
    # counts outside one).
    with django_assert_num_queries(10):
        assert sign_in()["Location"] == "/"

    # The floor: a member to whom MFA does not apply yet signs in with the password alone.
    # 2 fewer: no browser to mark used, and signin_complete's own transaction (BEGIN and
    # COMMIT in production, as the remembered browser's) makes no savepoint pair here.
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)
    make_member(email="grace@example.com")
    client.post("/signout/")
    with django_assert_num_queries(8):
        assert sign_in(email="grace@example.com")["Location"] == "/"


# Whole flows, every GET and POST, as benchmarks/signin.py runs and counts them (the same
# flows: benchmarks.flows), with the production's task backend (an email is a row) and
# outside a test transaction, so that BEGIN and COMMIT are counted as in production instead
# of savepoints. tests/test_benchmarks.py checks that the benchmark prints these numbers.
FLOW_QUERIES = {
    # GET sign-in 0; password 12 (the enterprise-login domain, axes' count, the member, the
    # phone with the other factors, then one transaction: the code, the text's limit keys,
    # count and row, the new session; then the text's status); GET code form 3 (the
    # session, the member with their phone, other factors and the latest text's delivery:
    # mfa.factors.pending_phone; the admins to ask); code 9 (the session, then one
    # transaction: the member with their phone under its row lock, the code checked and
    # used up, axes' one question, last_login, the security event, the session renamed);
    # GET home 4 (the session, the member, the memberships for the sidebar, the
    # workspaces).
    "login": 28,
    # GET sign-in 0; password 9 (the enterprise-login domain, axes' count, the member, then
    # one transaction: the remembered browser marked used, last_login, the security
    # event, the new session; axes has nothing to reset); GET home 4.
    "remembered": 13,
    # GET sign-in 0; password 6 (as the login's, but the other factors asked on their own,
    # there being no phone to read them with: mfa.factors.signin_phone); GET phone form 3
    # (the session, the member, the member's device: none yet); phone 11 (the session, the
    # member, the device, then one transaction: the device made in one INSERT ... ON
    # CONFLICT, the code, the text's limit keys, count and row; then the text's status);
    # GET code form 2 (the session, the member with the waiting number and the latest
    # text's delivery; "Can't use this phone?" and its admins only with a phone on file);
    # code 12 (as the login's code step, plus the phone confirmed on the row read under the
    # lock, with its event and the "phone set" email stored as a task, all in the one
    # transaction); GET home 4.
    "enroll": 38,
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", FLOW_QUERIES)
def test_complete_flow(key, settings, django_assert_num_queries):
    from benchmarks.flows import FLOWS, Browser, members_create

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    flow = next(flow for flow in FLOWS if flow.key == key)
    member = members_create(1, phone=flow.phone)[0]
    browser = Browser(member)
    if flow.prime:
        flow.prime(browser, member)
    with django_assert_num_queries(FLOW_QUERIES[key]):
        flow.run(browser, member)  # raises unless it ends signed in, with the texts it should
