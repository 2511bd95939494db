"""Two app servers over one PostgreSQL, as behind a load balancer: whichever server a
request reaches, the sign-in, its limits and a phone reset are the same. Everything a
step needs lives in the database (sessions, codes, counts), never in a server's memory.

Two gunicorn servers (scripts/serve, one worker each) run against the suite's test
database; the accounts are made here through the ORM and committed (transaction=True),
and each browser sends each request to the server the test names (tests/serving.py).
"""

import time
from datetime import timedelta
from functools import cache

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from core.limits import limit
from mfa.models import SmsDevice
from organizations.models import Membership
from tests.conftest import PASSWORD
from tests.serving import (
    Browser,
    SmsOutbox,
    database_url,
    location,
    page,
    serving,
    site_env,
    smtp_sink,
    working,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBER_NUMBER = "+41791234567"
ADMIN_NUMBER = "+41797654321"
WRONG = "That code isn't right. Check the text message and try again."
THROTTLED = "Too many wrong codes."


@pytest.fixture(scope="module")
def sites(django_db_setup, tmp_path_factory):
    """Servers A and B on one database, and the outbox that both write their texts into.
    Started one after the other: each runs migrate and collectstatic first, and two
    collectstatic runs would write the same files at once."""
    tmp = tmp_path_factory.mktemp("two-servers")
    with smtp_sink() as smtp:
        env = site_env(
            sms_dir=tmp / "sms", smtp_port=smtp.server_address[1], GUNICORN_WORKERS="1",
            DATABASE_URL=database_url(settings.DATABASES["default"]),
        )
        with (
            serving(env, tmp / "a.log") as a,
            serving(env, tmp / "b.log") as b,
            working(env, tmp / "worker.log"),
        ):
            yield a, b, SmsOutbox(tmp / "sms"), smtp.messages


@pytest.fixture
def outbox(sites):
    """The texts that either server sent during this test."""
    _, _, outbox, _ = sites
    outbox.clear()
    return outbox


@cache
def password_hash() -> str:
    # The servers run the production hashers; the suite's own (MD5) is not among them.
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(PASSWORD, hasher.salt())


@pytest.fixture
def account(enrolled_member):
    """A member of Acme Events with a phone on file, whom the servers can sign in."""

    def make(email="ada@example.com", number=MEMBER_NUMBER, **fields):
        user = enrolled_member(email=email, number=number, **fields)
        user.password = password_hash()
        user.save(update_fields=["password"])
        return user

    return make


def password_step(browser, server, user, *, expect="/signin/code/"):
    assert browser.get(server, "/signin/").status_code == 200
    response = browser.post(server, "/signin/", {"email": user.email, "password": PASSWORD})
    assert (response.status_code, location(response)) == (302, expect), page(response)
    return response


def code_step(browser, server, code, **extra):
    assert browser.get(server, "/signin/code/").status_code == 200
    return browser.post(server, "/signin/code/", {"code": code, **extra})


def signed_in(browser, server, user) -> bool:
    response = browser.get(server, "/")
    if response.status_code == 302:
        assert location(response).startswith("/signin/")
        return False
    assert response.status_code == 200 and f"Welcome, {user.get_short_name()}" in page(response)
    return True


def test_sign_in_moves_between_servers_and_the_browser_is_remembered_on_either(
    sites, account, outbox
):
    a, b, _, _ = sites
    user = account()
    browser = Browser(ip="198.51.100.7")

    password_step(browser, a, user)  # the code is sent by A
    (code,) = outbox.codes(MEMBER_NUMBER)
    response = code_step(browser, b, code, remember="on")  # and checked by B
    assert (response.status_code, location(response)) == (302, "/")
    assert signed_in(browser, a, user) and signed_in(browser, b, user)

    # Closed and reopened, the browser signs in again on A with the password alone.
    browser.close_session()
    assert not signed_in(browser, a, user)
    password_step(browser, a, user, expect="/")
    assert signed_in(browser, b, user)
    assert outbox.codes(MEMBER_NUMBER) == [code]  # no second text


def test_phone_reset_on_one_server_ends_the_session_held_on_the_other(sites, account, outbox):
    a, b, _, emails = sites
    member = account()
    admin = account(
        email="grace@example.com", number=ADMIN_NUMBER, full_name="Grace Hopper",
        role=Membership.Role.ADMIN,
    )
    member_browser, admin_browser = Browser(ip="198.51.100.7"), Browser(ip="198.51.100.8")
    for browser, user, number, server in (
        (member_browser, member, MEMBER_NUMBER, a), (admin_browser, admin, ADMIN_NUMBER, b),
    ):
        password_step(browser, server, user)
        code_step(browser, server, outbox.codes(number)[-1])
        assert signed_in(browser, server, user)

    remove = f"/organizations/acme-events/members/{member.pk}/phone/remove/"
    assert admin_browser.get(b, remove).status_code == 200  # "Remove user phone"
    response = admin_browser.post(b, remove, {})
    assert (response.status_code, location(response)) == (
        302, "/organizations/acme-events/members/"
    )

    assert not signed_in(member_browser, a, member)
    assert not SmsDevice.objects.filter(user=member).exists()
    # They are told, by the worker, after the response.
    deadline = time.monotonic() + 30
    while not any(f"To: {member.email}" in email for email in emails):
        assert time.monotonic() < deadline, "the phone-reset email never left"
        time.sleep(0.2)
    assert signed_in(admin_browser, a, admin)  # the admin's own session goes on, on A too


def test_sms_limit_counts_the_sends_of_both_servers(sites, account, outbox):
    a, b, _, _ = sites
    user = account()
    browser = Browser(ip="198.51.100.7")
    most = limit("SMS_PER_USER_HOUR").max

    password_step(browser, a, user)
    for sent in range(1, most + 1):
        assert len(outbox.codes(MEMBER_NUMBER)) == sent
        # Past the 30-second cooldown between sends, which is not under test here.
        SmsDevice.objects.filter(user=user).update(
            last_generated_timestamp=timezone.now() - settings.MFA_RESEND_COOLDOWN
        )
        server = (b, a)[sent % 2]  # every other send by the other server
        browser.get(server, "/signin/code/")
        response = browser.post(server, "/signin/code/resend/", {})
        assert (response.status_code, location(response)) == (302, "/signin/code/")
        text = page(browser.get(server, "/signin/code/"))
        if sent < most:
            assert "A new code is on its way." in text
    assert "You have asked for too many codes. Try again in an hour." in text
    assert len(outbox.codes(MEMBER_NUMBER)) == most


def test_wrong_codes_count_on_both_servers(sites, account, outbox):
    a, b, _, _ = sites
    user = account()
    browser = Browser(ip="198.51.100.7")
    password_step(browser, a, user)
    (code,) = outbox.codes(MEMBER_NUMBER)
    wrong = next(guess for guess in ("000000", "111111") if guess != code)
    most = settings.MFA_CODE_MAX_FAILURES

    for failures in range(1, most + 1):
        this, other = (a, b) if failures % 2 else (b, a)
        text = page(code_step(browser, this, wrong))
        assert (WRONG if failures < most else "This code can no longer be used.") in text
        # The other server holds off even the right code: the wrong one counted there too
        # (after the last one the code is dead, which the end of the test checks).
        if failures < most:
            assert THROTTLED in page(code_step(browser, other, code))
        # Past the back-off (1 second, doubling with each wrong code): the rule under test
        # is the count, not the clock.
        SmsDevice.objects.filter(user=user).update(
            throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
        )

    # The fifth wrong code, whichever server saw it, ended the code on both.
    text = page(code_step(browser, a, code))
    assert "This code can no longer be used. Ask for a new code." in text
    assert not signed_in(browser, b, user)
