"""After Remove user phone, the member's ended session lands on sign-in with the reason."""

import pytest
from django.test import Client

from organizations.members import member_phone_reset
from organizations.models import Membership
from tests.helpers import page as text
from tests.helpers import signed_in
from tests.organizations.members_helpers import lands_on_sign_in

REASON = "An administrator removed your phone: sign in and add a new one."


@pytest.fixture
def grace(enrolled_member, acme):
    return enrolled_member("grace@example.com", organization=acme, role=Membership.Role.ADMIN,
                           full_name="Grace Hopper", number="+41791110000")


@pytest.fixture
def ada(enrolled_member, acme):
    return enrolled_member("ada@example.com", organization=acme)


def test_the_sign_in_page_says_an_administrator_removed_the_phone(grace, ada):
    browser = signed_in(ada)
    member_phone_reset(actor=grace, member=ada)

    response = browser.get("/")
    assert lands_on_sign_in(response)
    page = text(browser.get(response["Location"]))
    assert REASON in page
    # Said once: the next visit is an ordinary sign-in page.
    assert REASON not in text(browser.get("/signin/"))


def test_a_session_started_after_the_reset_ends_for_other_reasons_without_it(
    grace, ada, clock
):
    member_phone_reset(actor=grace, member=ada)
    clock.advance(minutes=5)
    browser = signed_in(ada)
    # Another way to end every session: the member's own password change elsewhere.
    ada.refresh_from_db()
    ada.security_stamp = "changed-elsewhere"
    ada.save(update_fields=["security_stamp"])

    response = browser.get("/")
    assert lands_on_sign_in(response)
    assert REASON not in text(browser.get(response["Location"]))


def test_nobody_signed_in_sees_no_reason(client: Client, grace, ada):
    member_phone_reset(actor=grace, member=ada)
    assert REASON not in text(client.get("/signin/"))
