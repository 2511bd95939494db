"""Confirm your password before security changes ("sudo mode", issue 10 item 3;
accounts.reauth): every guarded view sends a stale session to Confirm your password and lets
a fresh one through; the password given in the last 10 minutes is what makes it fresh."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.test import Client

from accounts.models import SecurityEvent
from core.limits import limit
from mfa import sms
from mfa.models import SmsDevice
from tests.conftest import PASSWORD
from tests.helpers import page, password_given, signed_in

CONFIRM = "/settings/confirm-password/"
REMEMBER_COOKIE = "__Host-backstage_remember"

# Every guarded view: (method, path, data), and what it does when let through.
GUARDED = [
    ("get", "/settings/phone/", {}),
    ("post", "/settings/phone/", {"country": "CH", "number": "078 765 43 21"}),
    ("post", "/settings/authenticator/start/", {}),
    ("get", "/settings/authenticator/remove/", {}),
    ("post", "/settings/authenticator/remove/", {}),
    ("post", "/settings/sessions/end-others/", {}),
]
IDS = [f"{method} {path}" for method, path, _ in GUARDED]


def confirm_url(next_url: str) -> str:
    return f"{CONFIRM}?next={quote(next_url, safe='')}"


def expected_next(method: str, path: str) -> str:
    # A form's POST cannot be replayed: back to the page it was on (here, no Referer: settings).
    return path if method == "get" else "/settings/"


@pytest.fixture
def ada(enrolled_member, add_authenticator):
    """Ada, with a phone and an authenticator app (so that every guarded view has work)."""
    user = enrolled_member()
    add_authenticator(user)
    return user


def visit(client, method, path, data):
    return getattr(client, method)(path, data)


@pytest.mark.parametrize(("method", "path", "data"), GUARDED, ids=IDS)
def test_a_session_without_a_recent_password_is_sent_to_confirm_it(ada, method, path, data):
    response = visit(signed_in(ada), method, path, data)
    assert response.status_code == 302
    assert response["Location"] == confirm_url(expected_next(method, path))
    assert SmsDevice.objects.get(user=ada).pending_number in (None, "")
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSIONS_ENDED).exists()
    assert ada.totpdevice_set.filter(confirmed=True).exists()


@pytest.mark.parametrize(("method", "path", "data"), GUARDED, ids=IDS)
def test_a_password_given_in_the_last_ten_minutes_lets_the_change_through(
    ada, clock, method, path, data
):
    client = signed_in(ada, password_just_given=True)
    clock.advance(minutes=9, seconds=59)
    response = visit(client, method, path, data)
    assert not response.get("Location", "").startswith(CONFIRM)


@pytest.mark.parametrize(("method", "path", "data"), GUARDED, ids=IDS)
def test_ten_minutes_after_the_password_it_is_asked_again(ada, clock, method, path, data):
    client = signed_in(ada, password_just_given=True)
    clock.advance(minutes=10)
    response = visit(client, method, path, data)
    assert response["Location"] == confirm_url(expected_next(method, path))


def test_a_post_comes_back_to_the_page_its_form_was_on(ada):
    response = signed_in(ada).post(
        "/settings/authenticator/start/", HTTP_REFERER="http://testserver/settings/#security"
    )
    assert response["Location"] == confirm_url("http://testserver/settings/#security")


def test_another_members_password_does_not_count(ada, make_member):
    client = signed_in(ada)
    password_given(client, make_member("grace@example.com"))
    assert client.get("/settings/phone/")["Location"].startswith(CONFIRM)


# The page --------------------------------------------------------------------------------


def test_confirm_page_asks_for_the_password(ada):
    response = signed_in(ada).get(confirm_url("/settings/phone/"))
    text = page(response)
    assert "<title>Confirm your password" in text
    assert "<h1>Confirm your password</h1>" in text
    assert '<button type="submit">Confirm</button>' in text
    assert 'value="/settings/phone/"' in text
    assert "You won't be asked again for 10 minutes." in text
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(("language", "words"), [
    ("en", "You won't be asked again for an hour."),
    ("fr", "Il ne vous sera plus demandé pendant une heure."),
    ("de", "Innerhalb von einer Stunde werden Sie nicht noch einmal gefragt."),
])
def test_confirm_page_says_one_hour_with_its_article(ada, settings, language, words):
    settings.REAUTHENTICATION_VALID_FOR = timedelta(hours=1)
    response = signed_in(ada).get(
        confirm_url("/settings/phone/"), headers={"accept-language": language}
    )
    assert words in page(response)


def test_the_right_password_goes_on_to_next_and_opens_the_changes(ada, clock):
    client = signed_in(ada)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/settings/phone/"})
    assert response["Location"] == "/settings/phone/"
    assert client.get("/settings/phone/").status_code == 200
    clock.advance(minutes=10)
    assert client.get("/settings/phone/")["Location"].startswith(CONFIRM)


def test_a_wrong_password_is_refused_and_opens_nothing(ada):
    client = signed_in(ada)
    response = client.post(CONFIRM, {"password": "not my password", "next": "/settings/phone/"})
    assert response.status_code == 200
    assert "That password isn't right." in page(response)
    assert client.get("/settings/phone/")["Location"].startswith(CONFIRM)


def test_wrong_passwords_count_toward_the_sign_in_lockout(ada):
    client = signed_in(ada)
    for _ in range(limit("SIGNIN_FAILURES_PER_EMAIL_AND_IP").max):
        client.post(CONFIRM, {"password": "wrong password"})
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/settings/phone/"})
    assert "Too many wrong passwords." in page(response)
    assert client.get("/settings/phone/")["Location"].startswith(CONFIRM)
    # The same count as the sign-in page: it is paused there too.
    assert Client().post("/signin/", {"email": ada.email, "password": PASSWORD}).status_code == 429


def test_failed_sign_ins_pause_the_confirm_page_too(ada):
    for attempt in range(limit("SIGNIN_FAILURES_PER_EMAIL").max):
        Client(REMOTE_ADDR=f"10.3.{attempt}.1").post(
            "/signin/", {"email": ada.email, "password": "guess"}
        )
    response = signed_in(ada).post(CONFIRM, {"password": PASSWORD})
    assert "Too many wrong passwords." in page(response)


def test_the_confirm_page_needs_the_csrf_token(ada):
    client = signed_in(ada)
    client.handler.enforce_csrf_checks = True
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/settings/phone/"})
    assert response.status_code == 403
    assert client.get("/settings/phone/")["Location"].startswith(CONFIRM)


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""]
)
def test_the_confirm_page_goes_only_to_a_safe_next(ada, next_url):
    response = signed_in(ada).post(CONFIRM, {"password": PASSWORD, "next": next_url})
    assert response["Location"] == "/settings/"


def test_anonymous_is_sent_to_sign_in(client, db):
    assert client.get(CONFIRM)["Location"] == f"/signin/?next={quote(CONFIRM, safe='/')}"


# Signing in gives the password -------------------------------------------------------------


def test_signing_in_with_the_password_and_code_is_fresh_for_ten_minutes(
    enrolled_member, sign_in, client, last_code, clock
):
    enrolled_member()
    sign_in()
    client.post("/signin/code/", {"code": last_code()})
    assert client.get("/settings/phone/").status_code == 200
    clock.advance(minutes=10)
    assert client.get("/settings/phone/")["Location"].startswith(CONFIRM)


def test_phone_change_from_a_remembered_browser_works_with_the_password(
    enrolled_member, sign_in, client, last_code, clock, django_capture_on_commit_callbacks
):
    """The seeds' phone change from a remembered browser: the password, then a code sent
    to the new number; never the old phone."""
    ada = enrolled_member()
    sign_in()
    client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    client.post("/signout/")
    clock.advance(hours=2)
    assert sign_in()["Location"] == "/"  # remembered: the password alone
    clock.advance(minutes=15)
    sms.outbox.clear()

    response = client.get("/settings/phone/", follow=True)
    assert "Confirm your password" in page(response)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/settings/phone/"})
    assert response["Location"] == "/settings/phone/"
    client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    assert sms.outbox[-1].to == "+41787654321"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/phone/code/", {"code": last_code()})
    assert response["Location"] == "/settings/"
    assert str(SmsDevice.objects.get(user=ada).number) == "+41787654321"
    assert mail.outbox[-1].to == [ada.email]
    assert "phone" in mail.outbox[-1].subject


# The member is told ----------------------------------------------------------------------


def test_signing_out_other_sessions_emails_the_member(
    ada, django_capture_on_commit_callbacks
):
    other = signed_in(ada)
    client = signed_in(ada, password_just_given=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/sessions/end-others/")
    assert response["Location"] == "/settings/"
    assert other.get("/settings/")["Location"].startswith("/signin/")
    [email] = mail.outbox
    assert email.to == [ada.email]
    assert email.subject == "You were signed out of your other Backstage sessions"
    assert "If this wasn't you" in email.body
    assert "/password-reset/" in email.body
