"""Who an invitation may go to and what it becomes: an existing account gets a join email,
a current member or a bad email is refused, an account made while the form is open is kept."""

import re
from urllib.parse import urlparse

import pytest
from django.core import mail

from accounts.invitations import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_url,
)
from accounts.models import Invitation, SecurityEvent
from organizations.models import Membership
from tests.accounts.invitations.helpers import (
    ACCEPT_URL,
    PASSWORD,
    User,
    html_part,
    link_in,
    open_link,
    submit,
)
from tests.helpers import page, signed_in

# Who gets invited -------------------------------------------------------------------------

def test_inviting_an_existing_account_makes_a_pending_invitation_with_a_join_email(
    organization, make_member, make_organization
):
    make_member("grace@example.com", organization=make_organization("Other Org"),
                full_name="Grace Hopper")

    invitation = invitation_create(email=" GRACE@example.com ", organization=organization,
                                   role=Membership.Role.ADMIN)

    assert (invitation.email, invitation.role) == ("grace@example.com", Membership.Role.ADMIN)
    assert invitation.accepted_at is None and invitation.token
    assert not Membership.objects.filter(organization=organization).exists()
    [email] = mail.outbox
    assert email.to == ["grace@example.com"]
    assert email.subject == "You're invited to Acme Events on Backstage"
    assert "to join Acme Events" in email.body
    assert "create your password" not in email.body
    path = link_in(email)
    assert path == urlparse(invitation_url(invitation.token)).path
    assert re.search(
        rf'<a href="http://testserver{re.escape(path)}"[^>]*>Log in to Backstage</a>',
        html_part(email),
    )
    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEvent.Kind.INVITATION_SENT
    assert event.detail["email"] == "grace@example.com"


def test_inviting_someone_already_in_the_organization_says_so_and_sends_nothing(
    organization, make_member
):
    make_member("grace@example.com", organization=organization)

    with pytest.raises(InvitationError) as error:
        invitation_create(email="Grace@example.com", organization=organization,
                          role=Membership.Role.ADMIN)

    assert error.value.message == "grace@example.com is already a member of Acme Events."
    assert Membership.objects.get().role == Membership.Role.MEMBER
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "email",
    [
        "",
        "grace",
        "grace@",
        "grace@@example.com",
        "grace@example.com\r\nBcc: victim@example.com",
        "grace@example.com\n",
        "gra\x00ce@example.com",
        "g" * 245 + "@example.com",
    ],
    ids=["empty", "no at", "no domain", "two ats", "crlf header", "newline", "nul", "too long"],
)
def test_invitation_to_a_bad_email_is_refused(organization, email):
    with pytest.raises(InvitationError) as error:
        invitation_create(email=email, organization=organization, role=Membership.Role.MEMBER)

    assert error.value.message == "Enter a valid email address."
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_account_created_meanwhile_turns_the_form_into_sign_in_and_join(
    client, invite, make_user
):
    invitation, path = invite()
    open_link(client, path)
    existing = make_user(email="grace@example.com", password="their own password")

    response = submit(client)

    assert response.status_code == 200
    assert "You already have a Backstage account" in page(response)
    existing.refresh_from_db()
    assert existing.check_password("their own password")
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_account_created_at_the_same_moment_is_not_overwritten(invite, make_user):
    invitation, _ = invite()
    existing = make_user(email="grace@example.com", password="their own password")

    with pytest.raises(InvitationError) as error:
        invitation_accept(invitation=invitation, full_name="Grace Hopper", password=PASSWORD)

    assert error.value.code == "account_exists"
    existing.refresh_from_db()
    assert existing.check_password("their own password")


def test_other_pending_invitations_wait_for_their_own_link_which_then_joins(
    client, invite, make_organization
):
    _, path = invite()
    other = make_organization("Other Org")
    other_invitation = invitation_create(email="grace@example.com", organization=other,
                                         role=Membership.Role.ADMIN)
    open_link(client, path)

    submit(client)

    user = User.objects.get(email="grace@example.com")
    assert not Membership.objects.filter(user=user, organization=other).exists()
    other_invitation.refresh_from_db()
    assert other_invitation.accepted_at is None
    browser = signed_in(user)
    open_link(browser, urlparse(invitation_url(other_invitation.token)).path)
    browser.post(ACCEPT_URL)
    assert Membership.objects.get(user=user, organization=other).role == Membership.Role.ADMIN
