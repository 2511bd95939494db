"""A hundred wrong passwords in a row lock the password until a reset or support unlocks it
(issue 10 item 4; SECURITY 6, 9)."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db.models import F
from django.test import Client, RequestFactory

from accounts.backends import EmailBackend
from accounts.models import SecurityEvent, User
from core.limits import limit
from tests.conftest import PASSWORD
from tests.helpers import page_html as page
from tests.helpers import signed_in
from tests.races import at_once

WRONG = "The email or password is incorrect."
NEW_PASSWORD = "purple elephants dance quietly"


@pytest.fixture(autouse=True)
def _mfa_not_yet_enforced(settings):
    # About the password step: the second factor has its own tests.
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def post_password(email="ada@example.com", password=PASSWORD, *, ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post("/signin/", {"email": email, "password": password})


@pytest.fixture
def wrong_passwords(django_capture_on_commit_callbacks):
    """`count` wrong passwords for `email`, as a patient guesser sends them: each from its
    own IP and after the 15-minute pauses of django-axes have passed."""

    def send(count, email="ada@example.com"):
        for attempt in range(count):
            with django_capture_on_commit_callbacks(execute=True):
                ip = f"10.1.{attempt // 250}.{attempt % 250}"
                response = post_password(email, "a guess", ip=ip)
            assert WRONG in page(response)
            # django-axes reads the time its own way: age its failures instead of waiting.
            AccessAttempt.objects.update(
                attempt_time=F("attempt_time") - datetime.timedelta(minutes=16)
            )

    return send


def test_the_ceiling_is_a_hundred_wrong_passwords_in_a_row_within_thirty_days():
    rule = limit("PASSWORD_FAILURES_IN_A_ROW")
    assert (rule.max, rule.window) == (100, datetime.timedelta(days=30))


def test_a_hundredth_wrong_password_in_a_row_locks_the_password(make_member, wrong_passwords):
    ada = make_member()
    wrong_passwords(99)
    ada.refresh_from_db()
    assert ada.password_failures == 99 and ada.password_locked_at is None
    assert mail.outbox == []

    wrong_passwords(1)

    ada.refresh_from_db()
    assert ada.password_locked_at is not None
    response = post_password()  # the right password, from a fresh IP
    assert response.status_code == 200
    assert WRONG in page(response)
    assert "_auth_user_id" not in response.wsgi_request.session
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PASSWORD_LOCKED)
    assert event.subject == ada and event.detail == {"failures": 100}


def test_the_member_is_emailed_once_when_the_password_locks(make_member, wrong_passwords):
    make_member()
    wrong_passwords(103)
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == "Your Backstage password was locked after too many wrong tries"
    assert "100 times in a row" in email.body
    assert "http://testserver/password-reset/" in email.body
    assert "ask Support to unlock your password" in email.body


def test_a_locked_account_answers_like_an_email_without_an_account(make_member, wrong_passwords):
    make_member()
    wrong_passwords(100)
    locked = post_password("ada@example.com", PASSWORD, ip="10.2.0.1")
    unknown = post_password("nobody@example.com", PASSWORD, ip="10.2.0.2")
    assert locked.status_code == unknown.status_code == 200
    assert without_csrf(page(locked)).replace("ada@example.com", "nobody@example.com") == (
        without_csrf(page(unknown))
    )


def test_a_right_password_starts_the_count_again(make_member, wrong_passwords):
    ada = make_member()
    wrong_passwords(99)
    assert post_password(ip="10.3.0.1")["Location"] == "/"
    wrong_passwords(99)
    ada.refresh_from_db()
    assert ada.password_failures == 99 and ada.password_locked_at is None
    assert post_password(ip="10.3.0.2")["Location"] == "/"


def test_wrong_passwords_more_than_the_window_apart_start_a_new_count(make_member, clock):
    ada = make_member()
    backend = EmailBackend()
    request = RequestFactory().post("/signin/")
    for _ in range(99):
        backend.authenticate(request, username="ada@example.com", password="a guess")
    clock.advance(days=30, seconds=1)
    backend.authenticate(request, username="ada@example.com", password="a guess")
    ada.refresh_from_db()
    assert ada.password_failures == 1 and ada.password_locked_at is None


def test_forgot_password_unlocks_the_password(
    make_member, wrong_passwords, client, django_capture_on_commit_callbacks
):
    make_member()
    wrong_passwords(100)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password-reset/", {"email": "ada@example.com"})
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[-1].body)[1]
    form_url = client.get(link)["Location"]
    client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    ada = User.objects.get()
    assert ada.password_locked_at is None and ada.password_failures == 0
    assert post_password(password=NEW_PASSWORD, ip="10.4.0.1")["Location"] == "/"
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_UNLOCKED).count() == 1


def test_support_unlocks_the_password_in_admin(make_member, make_user, wrong_passwords):
    ada = make_member()
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    wrong_passwords(100)
    admin = signed_in(staff)
    detail = page(admin.get(f"/admin/accounts/user/{ada.pk}/change/"))
    assert "after 100 wrong passwords in a row" in detail

    response = admin.post(
        "/admin/accounts/user/", {"action": "unlock_password", "_selected_action": [ada.pk]},
        follow=True,
    )

    assert "Unlocked the password of 1 person." in page(response)
    assert post_password(ip="10.5.0.1")["Location"] == "/"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PASSWORD_UNLOCKED)
    assert (event.actor, event.subject) == (staff, ada)


def test_wrong_passwords_for_an_unknown_email_lock_nothing(make_member, wrong_passwords):
    make_member()
    wrong_passwords(100, email="nobody@example.com")
    assert User.objects.get().password_failures == 0
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_at_once_are_all_counted_and_lock_once(make_member):
    ada = make_member()
    User.objects.filter(pk=ada.pk).update(password_failures=95)
    User.objects.filter(pk=ada.pk).update(password_failed_at=F("date_joined"))

    def guess():
        EmailBackend().authenticate(
            RequestFactory().post("/signin/"), username="ada@example.com", password="guess"
        )

    at_once(*[guess] * 10)
    ada.refresh_from_db()
    assert ada.password_failures == 105
    assert ada.password_locked_at is not None
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_LOCKED).count() == 1
