"""Remember me for 14 days: a browser that may skip the SMS step (SPEC "Remembered browsers")."""

import pytest
from django.test import Client

from accounts.models import token_hash
from mfa import sms
from mfa.models import RememberedBrowser

COOKIE = "__Host-backstage_remember"


@pytest.fixture
def remembered(enrolled_member, sign_in, client, last_code):
    """Ada, signed in once with "Remember me" on `client`, then signed out."""
    user = enrolled_member()
    sign_in()
    client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    client.post("/signout/")
    sms.outbox.clear()
    return user


def test_remember_me_sets_a_safe_cookie_for_fourteen_days(
    enrolled_member, sign_in, client, last_code
):
    enrolled_member()
    sign_in()
    response = client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 14 * 24 * 3600
    stored = RememberedBrowser.objects.get()
    assert stored.token_hash == token_hash(cookie.value)
    assert cookie.value not in stored.token_hash


def test_without_remember_me_no_cookie_is_set(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in()
    response = client.post("/signin/code/", {"code": last_code()})
    assert COOKIE not in response.cookies
    assert not RememberedBrowser.objects.exists()


def test_remembered_browser_needs_only_email_and_password(remembered, sign_in, client):
    assert sign_in()["Location"] == "/"
    assert sms.outbox == []
    assert client.get("/").status_code == 200


def test_remembered_browser_still_needs_the_password(remembered, sign_in, client):
    assert client.get("/")["Location"] == "/signin/?next=/"
    assert "The email or password is incorrect." in sign_in(password="wrong").content.decode()


def test_remembered_browser_is_forgotten_after_fourteen_days(remembered, sign_in, clock):
    clock.advance(days=14, seconds=1)
    assert sign_in()["Location"] == "/signin/code/"


def test_using_a_remembered_browser_does_not_extend_it(remembered, sign_in, client, clock):
    clock.advance(days=13)
    assert sign_in()["Location"] == "/"
    client.post("/signout/")
    clock.advance(days=1, seconds=1)
    assert sign_in()["Location"] == "/signin/code/"


def test_a_replayed_cookie_with_a_longer_life_is_refused_on_day_fifteen(
    remembered, sign_in, client, clock
):
    token = client.cookies[COOKIE].value
    clock.advance(days=15)
    other = Client()
    other.cookies[COOKIE] = token
    assert sign_in(client=other)["Location"] == "/signin/code/"


def test_tampered_cookie_is_ignored(remembered, sign_in, client):
    client.cookies[COOKIE] = client.cookies[COOKIE].value[:-2] + "xx"
    assert sign_in()["Location"] == "/signin/code/"


def test_oversized_cookie_is_ignored(remembered, sign_in, client):
    client.cookies[COOKIE] = "x" * 4000
    assert sign_in()["Location"] == "/signin/code/"


def test_one_members_cookie_does_not_vouch_for_another(remembered, enrolled_member, sign_in):
    enrolled_member(email="grace@example.com")
    assert sign_in(email="grace@example.com")["Location"] == "/signin/code/"


def test_remembered_browser_is_recorded_with_its_use(remembered, sign_in):
    sign_in()
    browser = RememberedBrowser.objects.get()
    assert browser.last_ip == "127.0.0.1"
    assert browser.last_used_at > browser.created_at
