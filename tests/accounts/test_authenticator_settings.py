"""Setting up and removing an authenticator app in personal settings (SECURITY 14, 26, 27, 30,
48): who may, what the member sees, what is recorded and told, and where the key never goes."""

import json
import logging
import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from mfa import sms
from mfa.authenticator import authenticator_secret
from tests.accounts.test_personal_settings import fully_signed_in
from tests.helpers import page, password_given

SETTINGS = "/settings/"
START = "/settings/authenticator/start/"
SETUP = "/settings/authenticator/"
REMOVE = "/settings/authenticator/remove/"
Kind = SecurityEvent.Kind


@pytest.fixture
def ada(enrolled_member, sign_in, client, last_code):
    """Ada, with the phone +41 79 123 45 67, fully signed in on `client`."""
    user = enrolled_member()
    fully_signed_in(client, sign_in, last_code)
    sms.outbox.clear()
    return user


def key_on(text: str) -> str:
    return re.search(r'<code class="secret-key" id="secret-key">([A-Z2-7 ]+)</code>', text)[1]


def set_up(client, app_code, django_capture_on_commit_callbacks) -> TOTPDevice:
    """Start a set-up, read the key off the page, enter the app's code."""
    assert client.post(START)["Location"] == SETUP
    key = key_on(page(client.get(SETUP)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETUP, {"code": app_code(key=key)})
    assert response["Location"] == SETTINGS
    return TOTPDevice.objects.get(confirmed=True)


# Who may come in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", START), ("get", SETUP), ("post", SETUP), ("get", REMOVE), ("post", REMOVE)],
)
def test_anonymous_person_is_sent_to_the_sign_in_page(client, db, method, path):
    response = getattr(client, method)(path)
    assert response["Location"] == f"/signin/?next={path}"


def test_half_signed_in_session_cannot_set_up_an_app(enrolled_member, sign_in, client):
    enrolled_member()
    sign_in()  # the password, but not the code
    assert client.post(START)["Location"] == f"/signin/?next={START}"
    assert not TOTPDevice.objects.exists()


def test_new_posts_need_the_csrf_token(enrolled_member, add_authenticator):
    user = enrolled_member()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(START).status_code == 403
    assert not TOTPDevice.objects.exists()
    setup = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    session = strict.session
    session["authenticator_setup"] = setup.pk
    session.save()
    assert strict.post(SETUP, {"code": "123456"}).status_code == 403
    setup.delete()
    add_authenticator(user)
    assert strict.post(REMOVE).status_code == 403
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_start_is_post_only(ada, client):
    assert client.get(START).status_code == 405
    assert not TOTPDevice.objects.exists()


# The settings page --------------------------------------------------------------------------


def test_settings_page_offers_an_authenticator_app(ada, client):
    text = page(client.get(SETTINGS))
    assert '<h2 id="authenticator-heading">Authenticator app</h2>' in text
    assert f'<form method="post" action="{START}">' in text
    assert '<button type="submit">Set up an authenticator app</button>' in text


def test_member_without_a_phone_is_asked_to_add_one_first(make_member, client):
    member = make_member()
    client.force_login(member)
    password_given(client, member)
    text = page(client.get(SETTINGS))
    assert "Add a phone first" in text
    assert "Set up an authenticator app</button>" not in text
    response = client.post(START, follow=True)
    assert "Add a phone first" in page(response)
    assert not TOTPDevice.objects.exists()


# Set up ---------------------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_the_key_and_asks_for_a_code(ada, client):
    assert client.post(START)["Location"] == SETUP
    response = client.get(SETUP)
    text = page(response)
    device = TOTPDevice.objects.get(user=ada)
    assert not device.confirmed
    assert "<h1>Set up an authenticator app</h1>" in text
    assert '<svg role="img" aria-label="QR code to scan with your authenticator app"' in text
    assert key_on(text) == authenticator_secret(device)
    assert 'name="code"' in text and 'autocomplete="one-time-code"' in text
    assert ">Confirm</button>" in text
    assert "Remember me" not in text
    # No cache may keep the key.
    assert "no-store" in response["Cache-Control"]


def test_wrong_code_does_not_confirm_the_app(
    ada, client, wrong_app_code, django_capture_on_commit_callbacks
):
    client.post(START)
    key = key_on(page(client.get(SETUP)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETUP, {"code": wrong_app_code(key=key)})
    assert response.status_code == 200
    text = page(response)
    assert "That code isn't right." in text
    assert key_on(text) == key  # still there to try again
    assert not TOTPDevice.objects.get(user=ada).confirmed
    assert not SecurityEvent.objects.filter(kind=Kind.AUTHENTICATOR_SET).exists()
    assert SecurityEvent.objects.filter(kind=Kind.CODE_FAILED, subject=ada).count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code from your authenticator app."),
        ("12345", "The code is 6 digits"),
        ("1234567", "The code is 6 digits"),
        ("12a456", "The code is 6 digits"),
        ("<script>", "The code is 6 digits"),
        ("9" * 10_240, "at most 20 characters"),
    ],
)
def test_malformed_set_up_codes_get_a_clear_message(ada, client, code, message):
    client.post(START)
    response = client.post(SETUP, {"code": code})
    assert response.status_code == 200
    assert message in page(response)
    assert not TOTPDevice.objects.get(user=ada).confirmed


def test_right_code_confirms_records_and_emails_and_the_key_is_not_shown_again(
    ada, client, app_code, django_capture_on_commit_callbacks
):
    client.post(START)
    key = key_on(page(client.get(SETUP)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETUP, {"code": app_code(key=key)}, follow=True)
    text = page(response)
    assert "Your authenticator app is set up." in text
    assert TOTPDevice.objects.get(user=ada).confirmed
    event = SecurityEvent.objects.get(kind=Kind.AUTHENTICATOR_SET)
    assert (event.actor, event.subject, event.detail) == (ada, ada, {})
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == "An authenticator app was added to your Backstage account"
    assert "If this wasn't you" in email.body
    assert "/password-reset/" in email.body

    # The key is gone from every page.
    assert key not in text and key.replace(" ", "") not in text
    assert client.get(SETUP)["Location"] == SETTINGS
    assert "Remove authenticator app" in text
    assert "Set up an authenticator app</button>" not in text


def test_next_sign_in_asks_for_the_app(
    ada, client, sign_in, app_code, clock, django_capture_on_commit_callbacks
):
    device = set_up(client, app_code, django_capture_on_commit_callbacks)
    other = Client()
    assert sign_in(client=other)["Location"] == "/signin/app/"
    assert sms.outbox == []
    # The code that confirmed the set-up does not sign in; the app's next one does.
    assert "already used" in page(other.post("/signin/app/", {"code": app_code(device)}))
    clock.advance(seconds=30)
    assert other.post("/signin/app/", {"code": app_code(device)})["Location"] == "/"


def test_set_up_belongs_to_the_session_that_started_it(ada, client):
    client.post(START)
    device = TOTPDevice.objects.get(user=ada)
    other = Client()
    other.force_login(ada)
    assert other.get(SETUP)["Location"] == SETTINGS
    session = other.session
    session["authenticator_setup"] = str(device.pk)  # not what this app stores
    session.save()
    assert other.get(SETUP)["Location"] == SETTINGS


def test_someone_elses_set_up_is_not_reachable(ada, client, make_member):
    grace = make_member(email="grace@example.com")
    theirs = TOTPDevice.objects.create(user=grace, name="Authenticator app", confirmed=False)
    session = client.session
    session["authenticator_setup"] = theirs.pk
    session.save()
    assert client.get(SETUP)["Location"] == SETTINGS
    assert client.post(SETUP, {"code": "123456"})["Location"] == SETTINGS


def test_starting_again_replaces_the_unfinished_set_up(ada, client):
    client.post(START)
    first = key_on(page(client.get(SETUP)))
    client.post(START)
    second = key_on(page(client.get(SETUP)))
    assert first != second
    assert TOTPDevice.objects.filter(user=ada).count() == 1


def test_set_up_started_again_elsewhere_ends_this_one(ada, client):
    client.post(START)
    other = Client()
    other.force_login(ada)
    password_given(other, ada)
    other.post(START)
    assert client.get(SETUP)["Location"] == SETTINGS
    assert client.post(SETUP, {"code": "123456"})["Location"] == SETTINGS


def test_member_with_an_app_removes_it_before_setting_up_another(
    ada, client, app_code, django_capture_on_commit_callbacks
):
    set_up(client, app_code, django_capture_on_commit_callbacks)
    response = client.post(START, follow=True)
    assert "You already have an authenticator app. Remove it first" in page(response)
    assert TOTPDevice.objects.filter(user=ada).count() == 1


# Remove ---------------------------------------------------------------------------------------


def test_remove_asks_first_then_removes_records_and_emails(
    ada, client, sign_in, app_code, last_code, django_capture_on_commit_callbacks
):
    set_up(client, app_code, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    confirm = page(client.get(REMOVE))
    assert "<h1>Remove your authenticator app?</h1>" in confirm
    assert f'<form method="post" action="{REMOVE}">' in confirm
    assert TOTPDevice.objects.filter(user=ada).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REMOVE, follow=True)
    assert "Your authenticator app has been removed." in page(response)
    assert "Set up an authenticator app</button>" in page(response)
    assert not TOTPDevice.objects.filter(user=ada).exists()
    event = SecurityEvent.objects.get(kind=Kind.AUTHENTICATOR_REMOVED)
    assert (event.actor, event.subject) == (ada, ada)
    [email] = mail.outbox
    assert email.subject == "The authenticator app of your Backstage account was removed"
    assert "If this wasn't you" in email.body

    # The next sign-in sends a text message again.
    other = Client()
    assert sign_in(client=other)["Location"] == "/signin/code/"
    assert other.post("/signin/code/", {"code": last_code()})["Location"] == "/"


def test_remove_without_an_app_goes_back_to_settings(ada, client):
    assert client.get(REMOVE)["Location"] == SETTINGS
    assert client.post(REMOVE)["Location"] == SETTINGS
    assert not SecurityEvent.objects.filter(kind=Kind.AUTHENTICATOR_REMOVED).exists()
    assert mail.outbox == []


# The key stays secret -------------------------------------------------------------------------


def test_the_key_never_reaches_logs_events_or_emails(
    ada, client, sign_in, app_code, wrong_app_code, clock, caplog,
    django_capture_on_commit_callbacks,
):
    caplog.set_level(logging.DEBUG)
    client.post(START)
    key = key_on(page(client.get(SETUP)))
    device = TOTPDevice.objects.get(user=ada)
    client.post(SETUP, {"code": wrong_app_code(device)})
    clock.advance(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(SETUP, {"code": app_code(device)})["Location"] == SETTINGS
    other = Client()
    sign_in(client=other)
    other.post("/signin/app/", {"code": "12a456"})
    clock.advance(seconds=30)
    assert other.post("/signin/app/", {"code": app_code(device)})["Location"] == "/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REMOVE)

    secrets = {key, key.replace(" ", ""), device.key, device.key.upper(), device.config_url}
    written = [caplog.text]
    for event in SecurityEvent.objects.all():
        written += [json.dumps(event.detail), event.user_agent]
    for email in mail.outbox:
        written += [email.subject, email.body, *(content for content, _ in email.alternatives)]
    assert len(mail.outbox) == 2
    assert SecurityEvent.objects.filter(kind=Kind.CODE_FAILED).count() == 2
    for text in written:
        for secret in secrets:
            assert secret not in text
