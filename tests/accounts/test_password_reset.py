"""Forgot password? (issue 3 item 3; SECURITY 9, 20, 24-26)."""

import copy
import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import SecurityEvent
from accounts.services import user_sessions_end
from mfa import sms
from mfa.models import RememberedBrowser
from organizations.models import EmailDomain, EnterpriseLogin
from tests.conftest import PASSWORD
from tests.helpers import page_html as page
from tests.races import at_once

RESET = "/password-reset/"
SENT = "/password-reset/sent/"
ANSWER = (
    "If an account exists for that email, we sent a link to reset the password. "
    "It works for one hour."
)
NEW_PASSWORD = "purple elephants dance quietly"
UNUSABLE = "This link can't be used"

@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Ask for a reset link on the "Forgot password?" page, as a person would."""

    def post(email="ada@example.com", client=client):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(RESET, {"email": email})

    return post


def link_in(email) -> str:
    return re.search(r"http://testserver(/password-reset/\S+/\S+/)", email.body).group(1)


def choose(client, link, password=NEW_PASSWORD, again=None, capture=None):
    """Open the link, then send the new password twice from the page it leads to."""
    opened = client.get(link)
    assert opened.status_code == 302, opened.content.decode()
    form_url = opened["Location"]
    data = {"password1": password, "password2": again or password}
    if capture is None:
        return client.post(form_url, data)
    with capture(execute=True):
        return client.post(form_url, data)


# Asking for a link --------------------------------------------------------------------------


def test_sign_in_page_links_to_forgot_password(client, db):
    assert f'<a href="{RESET}">Forgot password?</a>' in page(client.get("/signin/"))


def test_known_and_unknown_emails_get_the_same_answer(make_member, ask, client):
    make_member()
    known = ask("ada@example.com")
    unknown = ask("nobody@example.com", client=Client())
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == SENT
    assert known.content == unknown.content
    assert ANSWER in page(client.get(SENT))
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == "Reset your Backstage password"
    assert "one hour" in email.body


def test_email_is_matched_without_regard_to_case(make_member, ask):
    make_member()
    assert ask("  ADA@Example.COM ")["Location"] == SENT
    assert [email.to for email in mail.outbox] == [["ada@example.com"]]


def test_deactivated_account_gets_no_link_and_the_same_answer(make_member, ask):
    make_member(is_active=False)
    assert ask()["Location"] == SENT
    assert mail.outbox == []


def test_member_whose_organization_requires_enterprise_login_gets_no_link(
    make_member, make_organization, ask
):
    organization = make_organization("Globex")
    EmailDomain.objects.create(organization=organization, domain="globex.com")
    EnterpriseLogin.objects.create(organization=organization, enabled=True, mandatory=True)
    make_member(email="ada@globex.com", organization=organization)
    assert ask("ada@globex.com")["Location"] == SENT
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email."),
        ("not an email", "Enter a valid email."),
        ("ada@example.com\r\nBcc: eve@example.com", "Enter a valid email."),
        ("a" * 250 + "@example.com", "Ensure this value has at most 254 characters"),
    ],
)
def test_bad_emails_get_a_clear_message_and_send_nothing(make_member, ask, email, message):
    make_member()
    response = ask(email)
    assert response.status_code == 200
    assert message in page(response)
    assert mail.outbox == []


def test_at_most_three_links_per_email_in_an_hour(make_member, ask, clock):
    make_member()
    for _ in range(3):
        assert ask()["Location"] == SENT
    assert len(mail.outbox) == 3
    assert ask()["Location"] == SENT
    assert len(mail.outbox) == 3
    clock.advance(hours=1, seconds=1)
    ask()
    assert len(mail.outbox) == 4


def test_at_most_twenty_requests_per_client_ip_in_an_hour(make_member, ask):
    make_member()
    for number in range(20):
        ask(f"nobody{number}@example.com")
    assert ask()["Location"] == SENT
    assert mail.outbox == []
    ask(client=Client(REMOTE_ADDR="198.51.100.7"))
    assert len(mail.outbox) == 1


def test_missing_csrf_token_is_refused(make_member):
    make_member()
    response = Client(enforce_csrf_checks=True).post(RESET, {"email": "ada@example.com"})
    assert response.status_code == 403
    assert mail.outbox == []


# Using the link -----------------------------------------------------------------------------


def test_link_leads_to_a_page_without_the_token(make_member, ask, client):
    make_member()
    ask()
    link = link_in(mail.outbox[-1])
    token = link.rstrip("/").rsplit("/", 1)[1]
    response = client.get(link)
    assert response["Location"].endswith("/set-password/")
    assert token not in response["Location"]
    text = page(client.get(response["Location"]))
    assert "Choose a new password" in text
    assert token not in text


def test_new_password_is_set_and_the_person_goes_to_sign_in_with_the_email_filled_in(
    make_member, ask, client, django_capture_on_commit_callbacks
):
    user = make_member()
    ask()
    response = choose(client, link_in(mail.outbox[-1]), capture=django_capture_on_commit_callbacks)
    assert response["Location"] == "/signin/?email=ada%40example.com"
    text = page(client.get(response["Location"]))
    assert "Your password has been changed. Sign in with your new password." in text
    assert 'value="ada@example.com"' in text
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    confirmation = mail.outbox[-1]
    assert confirmation.subject == "Your Backstage password was changed"
    assert "If this wasn't you" in confirmation.body
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PASSWORD_CHANGED, subject=user, detail__via="reset"
    ).exists()


def test_reset_ends_every_session_and_the_next_sign_in_still_asks_for_the_code(
    enrolled_member, ask, sign_in, last_code
):
    user = enrolled_member()
    signed_in, remembered = Client(), Client()
    for browser in (signed_in, remembered):
        sign_in(client=browser)
        browser.post("/signin/code/", {"code": last_code(), "remember": "on"})
        assert browser.get("/").status_code == 200
    stranger = Client()
    ask(client=stranger)
    response = choose(stranger, link_in(mail.outbox[-1]))
    assert response["Location"].startswith("/signin/")
    for browser in (signed_in, remembered):
        assert browser.get("/")["Location"] == "/signin/?next=/"
    assert not RememberedBrowser.objects.filter(user=user).exists()
    # The reset signed nobody in; the remembered browser needs a code again.
    assert stranger.get("/")["Location"] == "/signin/?next=/"
    sms.outbox.clear()
    assert sign_in(client=remembered, password=PASSWORD).status_code == 200  # old one: wrong
    assert sign_in(client=remembered, password=NEW_PASSWORD)["Location"] == "/signin/code/"
    assert len(sms.outbox) == 1


def test_reset_while_signed_in_signs_that_browser_out_too(
    enrolled_member, ask, client, sign_in, last_code
):
    enrolled_member()
    sign_in()
    client.post("/signin/code/", {"code": last_code()})
    ask()
    response = choose(client, link_in(mail.outbox[-1]))
    assert response["Location"] == "/signin/?email=ada%40example.com"
    assert client.get("/")["Location"] == "/signin/?next=/"


def test_link_works_only_once(make_member, ask, client):
    user = make_member()
    ask()
    link = link_in(mail.outbox[-1])
    choose(client, link)
    response = Client().get(link)
    assert response.status_code == 200
    assert UNUSABLE in page(response)
    assert "Ask for a new link" in page(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_same_form_sent_twice_changes_the_password_once(make_member, ask, client):
    user = make_member()
    ask()
    opened = client.get(link_in(mail.outbox[-1]))
    form_url = opened["Location"]
    client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    second = "another quite long passphrase"
    response = client.post(form_url, {"password1": second, "password2": second})
    assert UNUSABLE in page(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_link_works_just_before_one_hour(make_member, ask, client, clock):
    make_member()
    ask()
    clock.advance(minutes=59, seconds=59)
    assert choose(client, link_in(mail.outbox[-1]))["Location"].startswith("/signin/")


def test_link_expires_after_one_hour(make_member, ask, client, clock):
    user = make_member()
    ask()
    clock.advance(hours=1, seconds=1)
    response = client.get(link_in(mail.outbox[-1]))
    assert response.status_code == 200
    assert UNUSABLE in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_link_opened_in_time_but_used_after_the_hour_is_refused(make_member, ask, client, clock):
    user = make_member()
    ask()
    form_url = client.get(link_in(mail.outbox[-1]))["Location"]
    clock.advance(hours=1, seconds=1)
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert UNUSABLE in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_signing_in_after_asking_ends_the_link(make_member, ask, client, sign_in, settings):
    settings.MFA_ENFORCEMENT_DATE = __import__("datetime").date(2999, 1, 1)
    make_member()
    ask()
    link = link_in(mail.outbox[-1])
    assert sign_in(client=Client())["Location"] == "/"
    assert UNUSABLE in page(client.get(link))


def test_ending_every_session_of_the_member_ends_the_link(make_member, ask, client):
    user = make_member()
    ask()
    link = link_in(mail.outbox[-1])
    user_sessions_end(user=user)  # as a phone reset or "End all sessions" does
    assert UNUSABLE in page(client.get(link))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda uid, token: (uid, token[:-1] + ("a" if token[-1] != "a" else "b")),
        lambda uid, token: (uid, "1-" + token.split("-", 1)[1]),
        lambda uid, token: ("OTk5OTk", token),
        lambda uid, token: ("!!", token),
        lambda uid, token: (uid, "set-password"),
        lambda uid, token: (uid, "x" * 5000),
    ],
)
def test_tampered_links_are_refused_with_a_clear_page(make_member, ask, client, tamper):
    user = make_member()
    ask()
    _, _, uid, token, _ = link_in(mail.outbox[-1]).split("/")
    uid, token = tamper(uid, token)
    response = client.get(f"{RESET}{uid}/{token}/")
    assert response.status_code == 200
    text = page(response)
    assert UNUSABLE in text
    assert "Ask for a new link" in text
    response = client.post(
        f"{RESET}{uid}/set-password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert UNUSABLE in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_link_of_one_member_does_not_open_another_account(make_member, make_user, ask, client):
    make_member()
    grace = make_user(email="grace@example.com")
    ask()
    _, _, _, token, _ = link_in(mail.outbox[-1]).split("/")
    ask("grace@example.com", client=Client())
    grace_uid = link_in(mail.outbox[-1]).split("/")[2]
    assert UNUSABLE in page(client.get(f"{RESET}{grace_uid}/{token}/"))
    grace.refresh_from_db()
    assert grace.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("short words", None, "This password is too short. It must contain at least 12"),
        ("password1234", None, "This password is too common."),
        ("ada@example.com1", None, "The password is too similar to the email"),
        (NEW_PASSWORD, "purple elephants dance loudly", "The two passwords don&#x27;t match."),
        ("x" * 257, None, "Your password can have at most 256 characters."),
    ],
)
def test_new_password_follows_the_password_rules(make_member, ask, client, new, again, message):
    user = make_member()
    ask()
    response = choose(client, link_in(mail.outbox[-1]), password=new, again=again)
    assert response.status_code == 200
    assert message in page(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_missing_csrf_token_on_the_new_password_form_is_refused(make_member, ask):
    user = make_member()
    ask()
    strict = Client(enforce_csrf_checks=True)
    form_url = strict.get(link_in(mail.outbox[-1]))["Location"]
    response = strict.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# Races (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_link_submitted_four_times_at_once_changes_the_password_once(make_member):
    user = make_member()
    client = Client()
    client.post(RESET, {"email": "ada@example.com"})
    form_url = client.get(link_in(mail.outbox[-1]))["Location"]
    passwords = [f"racing passphrase number {n}" for n in range(4)]

    def submit(password):
        browser = Client()
        browser.cookies = copy.deepcopy(client.cookies)  # the same session, four tabs
        return lambda: browser.post(form_url, {"password1": password, "password2": password})

    responses = at_once(*(submit(password) for password in passwords))
    won = [p for p, r in zip(passwords, responses, strict=True) if r.status_code == 302]
    assert len(won) == 1
    assert all(UNUSABLE in page(r) for r in responses if r.status_code != 302)
    user.refresh_from_db()
    assert user.check_password(won[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_requests_for_one_email_send_at_most_three_links(make_member):
    make_member()
    responses = at_once(*[lambda: Client().post(RESET, {"email": "ada@example.com"})] * 6)
    assert {response["Location"] for response in responses} == {SENT}
    assert len(mail.outbox) == 3
