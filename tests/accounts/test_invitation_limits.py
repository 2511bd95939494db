"""Invitation emails are limited: per address and organization a day, per organization an hour."""


import pytest
from django.core import mail
from django.core.management import call_command

from accounts.invitations import InvitationError, invitation_create, invitation_resend
from accounts.models import Invitation
from organizations.models import Membership
from tests.helpers import page, signed_in

ADDRESS_LIMIT = (
    "grace@example.com has been sent 3 invitations from Acme Events in the last 24 hours. "
    "You can send another tomorrow."
)


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme Events", slug="acme-events")


@pytest.fixture
def admin(make_member, acme):
    return make_member("ada@example.com", organization=acme, role=Membership.Role.ADMIN)


# The rule -----------------------------------------------------------------------------------


def test_the_fourth_email_to_one_address_in_a_day_is_refused(acme, clock):
    invitation = invitation_create(email="grace@example.com", organization=acme)
    invitation_resend(invitation=invitation)
    invitation_create(email="grace@example.com", organization=acme)  # replaces the first
    with pytest.raises(InvitationError) as refused:
        invitation_resend(invitation=Invitation.objects.get(revoked_at=None))
    assert (refused.value.code, refused.value.message) == ("limit_address", ADDRESS_LIMIT)
    assert len(mail.outbox) == 3

    clock.advance(hours=24, seconds=1)
    invitation_resend(invitation=Invitation.objects.get(revoked_at=None))
    assert len(mail.outbox) == 4


def test_other_addresses_and_other_organizations_have_their_own_count(acme, make_organization):
    globex = make_organization("Globex")
    for _ in range(3):
        invitation_create(email="grace@example.com", organization=acme)
    invitation_create(email="hank@example.com", organization=acme)
    invitation_create(email="grace@example.com", organization=globex)
    assert len(mail.outbox) == 5


def test_an_organization_sends_at_most_its_hourly_number(acme, settings, clock):
    settings.LIMITS = {**settings.LIMITS, "INVITATIONS_PER_ORGANIZATION": {
        **settings.LIMITS["INVITATIONS_PER_ORGANIZATION"], "max": 2
    }}
    invitation_create(email="a@example.com", organization=acme)
    invitation_create(email="b@example.com", organization=acme)
    with pytest.raises(InvitationError) as refused:
        invitation_create(email="c@example.com", organization=acme)
    assert refused.value.message == (
        "Acme Events has sent 2 invitations in the last hour. Try again in an hour."
    )
    assert not Invitation.objects.filter(email="c@example.com").exists()

    clock.advance(hours=1, seconds=1)
    invitation_create(email="c@example.com", organization=acme)


def test_the_limits_cost_one_query(acme, django_assert_num_queries):
    from accounts.invitations import _send_limits_check

    with django_assert_num_queries(1):
        _send_limits_check(organization=acme, email="grace@example.com")


# Through the pages and the commands ---------------------------------------------------------


def test_the_members_page_says_why_and_sends_nothing(acme, admin):
    browser = signed_in(admin)
    for _ in range(3):
        browser.post("/organizations/acme-events/members/invite/",
                     {"email": "grace@example.com", "role": "member"})
    response = browser.post("/organizations/acme-events/members/invite/",
                            {"email": "grace@example.com", "role": "member"}, follow=True)
    assert ADDRESS_LIMIT in page(response)
    assert len(mail.outbox) == 3
    assert Invitation.objects.filter(email="grace@example.com", revoked_at=None).count() == 1


def test_resend_on_the_members_page_says_why_and_keeps_the_link(acme, admin):
    browser = signed_in(admin)
    invitation = invitation_create(email="grace@example.com", organization=acme)
    for _ in range(2):
        invitation_resend(invitation=invitation)
    invitation.refresh_from_db()
    response = browser.post(
        f"/organizations/acme-events/invitations/{invitation.pk}/resend/", follow=True
    )
    assert ADDRESS_LIMIT in page(response)
    assert Invitation.objects.get(pk=invitation.pk).token_hash == invitation.token_hash
    assert len(mail.outbox) == 3


def test_operators_commands_are_not_limited(acme):
    for _ in range(4):
        call_command("invite", "grace@example.com", "--organization", "acme-events")
    assert len(mail.outbox) == 4
