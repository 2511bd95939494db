"""Nothing leaks by storage (issue 10, item 5): flash messages stay on the server, members'
pages are never cached, a deactivated account keeps no session, and an email changed by
support staff is recorded and told to both addresses. Timing: benchmarks/enumeration.py."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import SecurityEvent, token_hash
from mfa.models import RememberedBrowser
from organizations.models import Membership
from tests.helpers import page, signed_in

MEMBERS = "/organizations/acme-events/members/"


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme Events", slug="acme-events")


@pytest.fixture
def grace(make_member, acme):
    return make_member("grace@example.com", organization=acme, role=Membership.Role.ADMIN,
                       full_name="Grace Hopper")


@pytest.fixture
def ada(enrolled_member, acme):
    return enrolled_member("ada@example.com", organization=acme)


@pytest.fixture
def support(make_user):
    """Django admin in a browser of support staff who passed the SMS step."""
    staff = make_user("support@backstage.test", full_name="Sam Support", is_staff=True,
                      is_superuser=True)
    return signed_in(staff, method="sms")


def remember_a_browser(user):
    now = timezone.now()
    RememberedBrowser.objects.create(
        user=user, token_hash=token_hash(f"browser of {user.email}"), user_agent="Firefox",
        created_at=now, expires_at=now + timedelta(days=14), last_used_at=now,
    )


def is_signed_in(browser) -> bool:
    return browser.get("/").status_code == 200


# Flash messages ------------------------------------------------------------------------------


def test_an_invitation_leaves_no_messages_cookie_with_the_address(grace):
    browser = signed_in(grace)

    response = browser.post(MEMBERS + "invite/", {"email": "alan@example.com", "role": "member"})

    assert response.status_code == 302
    assert "messages" not in response.cookies
    assert "messages" not in browser.cookies
    # The message is still shown, once, from the session.
    assert "We've sent an invitation to alan@example.com." in page(browser.get(MEMBERS))
    assert "We've sent an invitation" not in page(browser.get(MEMBERS))


# Cache-Control -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/", "/settings/", "/settings/phone/", MEMBERS, "/organizations/acme-events/activity/",
])
def test_every_page_of_a_signed_in_member_answers_no_store(grace, path):
    response = signed_in(grace, password_just_given=True).get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_admin_pages_and_redirects_of_a_signed_in_person_answer_no_store(support, grace):
    for path in ["/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{grace.pk}/change/"]:
        response = support.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
    redirect = signed_in(grace).post(MEMBERS + "invite/", {"email": "alan@example.com",
                                                           "role": "member"})
    assert redirect.status_code == 302
    assert "no-store" in redirect["Cache-Control"]


def test_the_sign_in_page_is_left_to_its_view(client, db):
    assert "no-store" not in client.get("/signin/").get("Cache-Control", "")


# Deactivation --------------------------------------------------------------------------------


def user_change(browser, user, **fields):
    """Save `user`'s change form in Django admin: `fields` over what is stored; booleans
    that are False are left out, as a browser leaves out an unticked box."""
    data = {"email": user.email, "full_name": user.full_name, "is_active": user.is_active,
            "is_staff": user.is_staff, "is_superuser": user.is_superuser} | fields
    form = {name: ("on" if value is True else value) for name, value in data.items()
            if value is not False}
    return browser.post(f"/admin/accounts/user/{user.pk}/change/", {**form, "_save": "Save"})


def test_deactivating_in_admin_ends_sessions_and_remembered_browsers_for_good(support, ada):
    browser = signed_in(ada)
    remember_a_browser(ada)
    assert is_signed_in(browser)

    assert user_change(support, ada, is_active=False).status_code == 302
    ada.refresh_from_db()
    assert not ada.is_active
    assert not RememberedBrowser.objects.filter(user=ada).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SESSIONS_ENDED, subject=ada)
    assert event.detail == {"reason": "deactivated", "browsers_forgotten": 1}

    # Reactivated, the account does not get its old session back.
    assert user_change(support, ada, is_active=True).status_code == 302
    ada.refresh_from_db()
    assert ada.is_active
    assert not is_signed_in(browser)
    assert browser.get("/")["Location"].startswith("/signin/")


def test_saving_an_active_account_ends_nothing(support, ada):
    browser = signed_in(ada)
    remember_a_browser(ada)

    assert user_change(support, ada, full_name="Ada King").status_code == 302

    assert is_signed_in(browser)
    assert RememberedBrowser.objects.filter(user=ada).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSIONS_ENDED).exists()


def test_deactivating_anywhere_else_ends_sessions_too(ada):
    browser = signed_in(ada)
    ada.is_active = False
    ada.save()
    ada.is_active = True
    ada.save()

    assert not is_signed_in(browser)


# Email changed by support staff --------------------------------------------------------------


def test_support_changing_an_email_records_it_and_tells_both_addresses(
    support, ada, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_change(support, ada, email="ada.lovelace@example.org")

    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.email == "ada.lovelace@example.org"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.EMAIL_CHANGED)
    assert (event.subject, event.actor.email) == (ada, "support@backstage.test")
    assert event.detail == {"old_email": "ada@example.com", "new_email": "ada.lovelace@example.org"}
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ada.lovelace@example.org", "ada@example.com",
    ]
    for message in mail.outbox:
        assert message.subject == "The email of your Backstage account was changed"
        assert "from ada@example.com to ada.lovelace@example.org" in message.body
        assert "If you didn't ask for this change" in message.body


def test_saving_without_changing_the_email_records_and_sends_nothing(
    support, ada, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_change(support, ada, full_name="Ada King")

    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EMAIL_CHANGED).exists()
    assert mail.outbox == []


def test_the_email_task_queue_is_not_in_admin(support):
    # Its rows hold the raw tokens of reset and invitation links.
    assert support.get("/admin/django_tasks_db/dbtaskresult/").status_code == 404
    assert "dbtaskresult" not in support.get("/admin/").content.decode()
