"""Emails leave after the response, as tasks in the database that django-tasks-db's worker
sends; a failed send is tried again later, and mail is never lost (issue 10, item 5).

The rest of the suite sends tasks at once (ImmediateBackend, tests/settings.py); these tests
use the database backend and run its worker, as production does. Transactional tests: the
worker opens its own transactions."""

import io
import re
import signal
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accounts.emails import send_email
from accounts.models import SecurityEvent, User
from accounts.password_reset import password_reset_request
from accounts.services import user_email_change, user_password_change
from mfa.models import SmsDevice
from mfa.recovery import recovery_codes_create
from organizations.members import member_phone_reset
from organizations.models import Membership, Organization
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db(transaction=True)

RESET = "/password-reset/"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


def worker_run():
    """`manage.py db_worker --batch`: every task that is due, then stop. The worker sets its
    own signal handlers; the test runner's are put back."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay",
                     "--interval", "0", stdout=io.StringIO())
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


@pytest.fixture
def mail_server_down(monkeypatch):
    """The mail server refuses every message until `.up()`; `.refused` counts the refusals."""

    class MailServer:
        down = True
        refused = 0

        def up(self):
            self.down = False

    server = MailServer()
    send_messages = EmailBackend.send_messages

    def send_or_refuse(backend, messages):
        if not server.down:
            return send_messages(backend, messages)
        server.refused += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", send_or_refuse)
    return server


def password_reset_email_ask(email="ada@example.com"):
    User.objects.create_user(email="ada@example.com", password="x" * 20, full_name="Ada")
    response = Client().post(RESET, {"email": email})
    assert response.status_code == 302
    return response


def test_forgot_password_is_a_stored_task_until_the_worker_sends_the_link():
    password_reset_email_ask()

    assert mail.outbox == []
    task = DBTaskResult.objects.get()
    assert task.status == "READY"
    assert task.task_path == "accounts.password_reset.password_reset_email"
    assert task.args_kwargs["kwargs"] == {"email": "ada@example.com", "language": "en"}

    worker_run()  # it finds the account and stores the email, which it then sends

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your Backstage password"
    assert mail.outbox[0].to == ["ada@example.com"]
    assert re.search(r"http://testserver/password-reset/\S+/\S+/", mail.outbox[0].body)
    assert "Hello Ada," in mail.outbox[0].body
    # The link's token is not left behind in the table once the email is out.
    assert not DBTaskResult.objects.exists()


def test_an_address_without_an_account_stores_the_same_task_and_gets_no_email():
    password_reset_email_ask("nobody@example.com")

    task = DBTaskResult.objects.get()
    assert task.task_path == "accounts.password_reset.password_reset_email"
    assert task.args_kwargs["kwargs"] == {"email": "nobody@example.com", "language": "en"}

    worker_run()

    assert mail.outbox == []
    assert not DBTaskResult.objects.exists()


def test_an_email_is_stored_as_a_task_until_the_worker_sends_it():
    user = User.objects.create_user(email="ada@example.com", password="x" * 20,
                                    full_name="Ada")
    send_email(to=user.email, template="account_created", context={
        "user": user, "organization": None, "signin_url": "http://testserver/signin/",
    })

    task = DBTaskResult.objects.get()
    assert (task.task_path, task.status) == ("accounts.emails.email_deliver", "READY")
    assert task.args_kwargs["kwargs"]["to"] == "ada@example.com"
    assert mail.outbox == []

    worker_run()

    assert [message.subject for message in mail.outbox] == [
        "Your Backstage account has been created"
    ]
    assert not DBTaskResult.objects.exists()


def test_a_failed_send_is_tried_again_after_a_delay(mail_server_down, clock, settings):
    password_reset_email_ask()

    worker_run()  # the reset's task stores the email, whose first attempt fails

    assert mail.outbox == [] and mail_server_down.refused == 1
    retry = DBTaskResult.objects.get()  # the failed attempt's row is gone, the next waits
    assert retry.status == "READY"
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.run_after == clock.now + settings.EMAIL_RETRY_DELAYS[0]

    worker_run()  # not due yet
    assert mail_server_down.refused == 1

    mail_server_down.up()
    clock.advance(minutes=1, seconds=1)
    worker_run()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your Backstage password"
    assert not DBTaskResult.objects.exists()


def test_an_email_that_fails_every_attempt_stays_until_emails_retry(
    mail_server_down, clock, settings
):
    organization = Organization.objects.create(name="Acme Events", slug="acme")
    send_email(to="grace@example.com", template="invitation", context={
        "has_account": False, "organization": organization, "inviter_name": "Ada",
        "role": "member", "url": "http://testserver/invitation/x/", "expires_at": clock.now,
    })

    for delay in settings.EMAIL_RETRY_DELAYS:
        worker_run()
        clock.advance(seconds=delay.total_seconds() + 1)
    worker_run()

    attempts = len(settings.EMAIL_RETRY_DELAYS) + 1
    assert mail_server_down.refused == attempts
    failed = DBTaskResult.objects.get()
    assert failed.status == "FAILED"
    assert failed.args_kwargs["kwargs"]["attempt"] == attempts
    assert "SMTPServerDisconnected" in failed.traceback
    clock.advance(days=7)
    worker_run()
    assert mail_server_down.refused == attempts  # no more attempts of its own

    mail_server_down.up()
    out = io.StringIO()
    call_command("emails_retry", stdout=out)
    assert out.getvalue() == "1 email queued again.\n"
    worker_run()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "You're invited to Acme Events on Backstage"
    assert "to join Acme Events" in mail.outbox[0].body
    assert not DBTaskResult.objects.exists()


def test_an_email_shows_its_models_as_they_are_when_it_is_sent():
    user = User.objects.create_user(email="ada@example.com", password="x" * 20,
                                    full_name="Ada")
    send_email(to=user.email, template="account_created", context={
        "user": user, "organization": None, "signin_url": "http://testserver/signin/",
    })
    User.objects.filter(pk=user.pk).update(full_name="Ada Lovelace")

    worker_run()

    assert "Hello Ada Lovelace," in mail.outbox[0].body


def test_an_email_about_a_deleted_account_is_not_sent():
    user = User.objects.create_user(email="ada@example.com", password="x" * 20,
                                    full_name="Ada")
    send_email(to=user.email, template="account_created", context={
        "user": user, "organization": None, "signin_url": "http://testserver/signin/",
    })
    user.delete()

    worker_run()

    assert mail.outbox == []
    assert not DBTaskResult.objects.exists()


def test_a_context_that_cannot_be_stored_is_refused_at_once():
    with pytest.raises(TypeError, match="cannot be stored in a task"):
        send_email(to="ada@example.com", template="account_created", context={"x": object()})


@pytest.mark.parametrize(("stored", "browser", "subject"), [
    ("", "fr", "Réinitialisez votre mot de passe Backstage"),
    ("de", "fr", "Setzen Sie Ihr Backstage-Passwort zurück"),
])
def test_the_worker_writes_in_the_language_of_the_request_or_the_stored_one(
    stored, browser, subject
):
    """The worker has no request: the language is decided when the task is stored and goes
    in it, the recipient's stored one winning over the browser's."""
    User.objects.create_user(email="ada@example.com", password="x" * 20, full_name="Ada",
                             language=stored)
    response = Client(headers={"accept-language": browser}).post(
        RESET, {"email": "ada@example.com"}
    )
    assert response.status_code == 302

    worker_run()  # the reset task, then the email task it stores

    assert [message.subject for message in mail.outbox] == [subject]


def test_an_email_task_carries_its_language_and_the_worker_renders_in_it():
    user = User.objects.create_user(email="ada@example.com", password="x" * 20,
                                    full_name="Ada")
    send_email(to=user.email, template="password_reset", language="de",
               context={"user": user, "url": "http://testserver/reset/"})

    assert DBTaskResult.objects.get().args_kwargs["kwargs"]["language"] == "de"
    worker_run()

    assert [message.subject for message in mail.outbox] == [
        "Setzen Sie Ihr Backstage-Passwort zurück"
    ]


# An email's task is stored in the transaction of its change ------------------------------


class Undone(Exception):
    """Raised after a change, inside its transaction: everything of it must go."""


def queued() -> list[tuple[str, str]]:
    """The tasks waiting for the worker: (email template or task name, recipient)."""
    tasks = []
    for row in DBTaskResult.objects.order_by("enqueued_at"):
        kwargs = row.args_kwargs["kwargs"]
        if row.task_path == "accounts.emails.email_deliver":
            tasks.append((kwargs["template"], kwargs["to"]))
        else:
            tasks.append((row.task_path.rsplit(".", 1)[1], kwargs["email"]))
    return tasks


@pytest.fixture
def grace_and_ada(enrolled_member):
    """Grace, an admin of Acme with a phone, and Ada, a member of Acme with a phone."""
    grace = enrolled_member(
        "grace@example.com",
        role=Membership.Role.ADMIN,
        full_name="Grace Hopper",
        number="+41791110000",
    )
    return grace, enrolled_member("ada@example.com")


# Each change that emails, done to Ada (by Grace where someone else does it); what it queues.
CHANGES = {
    "phone reset": (
        lambda grace, ada: member_phone_reset(actor=grace, member=ada),
        [("phone_reset", "ada@example.com")],
    ),
    "password change": (
        lambda grace, ada: user_password_change(user=ada, password="a new long passphrase"),
        [("password_changed", "ada@example.com")],
    ),
    "recovery codes": (
        lambda grace, ada: recovery_codes_create(user=ada, ip=None, user_agent=""),
        [("recovery_codes_created", "ada@example.com")],
    ),
    "email change by support": (
        lambda grace, ada: user_email_change(
            user=ada, email="ada@lovelace.example", actor=grace, request=None
        ),
        [("email_changed", "ada@example.com"), ("email_changed", "ada@lovelace.example")],
    ),
    "forgot password": (
        lambda grace, ada: password_reset_request(email="ada@example.com", ip=None),
        [("password_reset_email", "ada@example.com")],
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_rolled_back_leaves_no_email_queued(grace_and_ada, change):
    do, expected = CHANGES[change]
    events = SecurityEvent.objects.count()

    with pytest.raises(Undone), transaction.atomic():
        do(*grace_and_ada)
        assert queued() == expected  # stored in the change's own transaction
        raise Undone

    assert queued() == []
    assert SecurityEvent.objects.count() == events  # and the change is undone with it
    worker_run()
    assert mail.outbox == []


@pytest.mark.parametrize("change", CHANGES)
def test_a_committed_change_leaves_its_email_queued_once(grace_and_ada, change):
    do, expected = CHANGES[change]

    do(*grace_and_ada)

    assert queued() == expected
    assert mail.outbox == []  # the worker sends it, after the commit
    worker_run()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(to for _, to in expected)
    assert queued() == []


def test_remove_user_phone_on_the_members_page_queues_exactly_one_email(grace_and_ada):
    grace, ada = grace_and_ada

    response = signed_in(grace).post(f"/organizations/acme-events/members/{ada.pk}/phone/remove/")

    assert response.status_code == 302
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert queued() == [("phone_reset", "ada@example.com")]
