"""Signing in with email and password (SPEC journey 3), lockout, redirects, sessions."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

from accounts.models import SecurityEvent
from core.limits import limit
from tests.conftest import PASSWORD

WRONG = "The email or password is incorrect."
LOCKED = "Too many failed sign-ins."


@pytest.fixture(autouse=True)
def _mfa_not_yet_enforced(settings):
    # These tests are about the password step; the second factor has its own tests.
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)


def test_sign_in_page_has_the_words_of_the_articles(client):
    page = client.get("/signin/").content.decode()
    assert "Log in to Backstage" in page
    assert ">Sign in</button>" in page


def test_email_from_the_query_string_is_filled_in(client):
    page = client.get("/signin/?email=ada@example.com").content.decode()
    assert 'value="ada@example.com"' in page


def test_correct_password_signs_in_and_lands_on_home(make_member, sign_in, client):
    make_member()
    response = sign_in()
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNIN_SUCCEEDED).count() == 1


def test_email_is_matched_without_regard_to_case(make_member, sign_in):
    make_member(email="ada@example.com")
    assert sign_in(email="  Ada@EXAMPLE.com ")["Location"] == "/"


@pytest.mark.parametrize("email", ["ada@example.com", "nobody@example.com"])
def test_wrong_credentials_give_one_message_that_reveals_no_account(make_member, sign_in, email):
    make_member()
    response = sign_in(email=email, password="not the password")
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_inactive_member_cannot_sign_in(make_member, sign_in):
    make_member(is_active=False)
    assert WRONG in sign_in().content.decode()


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("", PASSWORD, "Enter your email."),
        ("ada@example.com", "", "Enter your password."),
        ("not-an-email", PASSWORD, "Enter a valid email."),
        ("a" * 250 + "@example.com", PASSWORD, "at most 254 characters"),
        ("ada@example.com\r\nBcc: x@evil.example", PASSWORD, "Enter a valid email."),
        ("ada@example.com", "x" * 10_000, "at most 256 characters"),
    ],
)
def test_bad_input_gets_a_clear_message(make_member, sign_in, email, password, message):
    make_member()
    response = sign_in(email=email, password=password)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_five_failures_lock_out_the_email_from_that_ip_even_with_the_right_password(
    make_member, sign_in
):
    make_member()
    for _ in range(5):
        sign_in(password="wrong password")
    response = sign_in()
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_lockout_ends_after_fifteen_minutes(make_member, sign_in):
    make_member()
    for _ in range(5):
        sign_in(password="wrong password")
    # django-axes reads the time its own way: age the failures instead of moving the clock.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=16))
    assert sign_in()["Location"] == "/"


def test_rotating_ips_and_forged_forwarded_for_do_not_escape_the_per_email_limit(
    make_member, settings
):
    make_member()
    for attempt in range(limit("SIGNIN_FAILURES_PER_EMAIL").max):
        Client(REMOTE_ADDR=f"10.0.{attempt}.1").post(
            "/signin/",
            {"email": "ada@example.com", "password": "guess"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        )
    response = Client(REMOTE_ADDR="10.9.9.9").post(
        "/signin/", {"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_failures_for_one_email_do_not_lock_another(make_member, make_user, sign_in):
    make_member()
    make_user(email="grace@example.com")
    for _ in range(5):
        sign_in(password="wrong password")
    assert sign_in(email="grace@example.com")["Location"] == "/"


def test_next_inside_the_site_is_followed(make_member, sign_in):
    make_member()
    assert sign_in(next="/signin/?x=1")["Location"] == "/signin/?x=1"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_outside_the_site_is_ignored(make_member, sign_in, next_url):
    make_member()
    assert sign_in(next=next_url)["Location"] == "/"


def test_protected_page_sends_an_anonymous_person_to_sign_in_and_back(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/"


def test_signing_in_rotates_the_session_key(make_member, sign_in, client):
    make_member()
    client.get("/signin/")
    client.session.save()
    before = client.session.session_key
    sign_in()
    assert client.session.session_key != before


def test_sign_in_form_needs_a_csrf_token(make_member):
    make_member()
    client = Client(enforce_csrf_checks=True)
    response = client.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 403


def test_signing_out_ends_only_this_session(make_member, sign_in):
    make_member()
    first, second = Client(), Client()
    sign_in(client=first)
    sign_in(client=second)
    first.post("/signout/")
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 200


def test_changing_the_security_stamp_ends_every_session(make_member, sign_in, client):
    from accounts.models import new_security_stamp

    user = make_member()
    sign_in()
    user.security_stamp = new_security_stamp()
    user.save()
    assert client.get("/").status_code == 302


def test_lockouts_are_recorded_for_the_members_activity(make_member, sign_in, settings):
    user = make_member()
    for _ in range(5):
        sign_in(password="wrong password")
    sign_in()
    for attempt in range(limit("SIGNIN_FAILURES_PER_EMAIL").max):
        Client(REMOTE_ADDR=f"10.1.{attempt}.1").post(
            "/signin/", {"email": "ada@example.com", "password": "guess"}
        )
    locked = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGNIN_LOCKED, subject=user)
    # The axes lockout (same IP) and the per-email limit (other IPs) both leave events.
    assert locked.filter(ip_address="127.0.0.1").exists()
    assert locked.exclude(ip_address="127.0.0.1").exists()


def test_a_sign_in_resets_the_members_failures_from_its_address_and_the_expired_ones(
    make_member, make_user, sign_in
):
    # AXES_RESET_ON_SUCCESS, asked for in one query first (accounts.lockout.user_logged_in).
    make_member()
    make_user("bob@example.com")
    sign_in(password="wrong password")
    sign_in(password="wrong password")
    Client(REMOTE_ADDR="10.9.9.9").post("/signin/", {"email": "ada@example.com", "password": "x"})
    Client().post("/signin/", {"email": "bob@example.com", "password": "wrong password"})
    assert AccessAttempt.objects.count() == 3
    assert sign_in()["Location"] == "/"
    # Ada's failures from this address are gone; hers from elsewhere and Bob's stay.
    assert sorted(AccessAttempt.objects.values_list("username", "ip_address")) == [
        ("ada@example.com", "10.9.9.9"), ("bob@example.com", "127.0.0.1"),
    ]
    # Expired failures go with the next sign-in, whoever's they are.
    AccessAttempt.objects.filter(username="bob@example.com").update(
        attempt_time=F("attempt_time") - datetime.timedelta(days=1)
    )
    other_browser = Client(REMOTE_ADDR="10.1.1.1")
    response = other_browser.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    assert response["Location"] == "/"
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["ada@example.com"]
