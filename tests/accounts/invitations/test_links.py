"""The invitation link: stored as a hash, good once, refused when expired, revoked, replaced or
mangled, and safe when two browsers use it at once."""

import functools
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.invitations import (
    InvitationError,
    invitation_accept,
    invitation_resend,
    invitation_revoke,
)
from accounts.models import Invitation, SecurityEvent
from organizations.models import Membership
from tests import races
from tests.accounts.invitations.helpers import (
    ACCEPT_URL,
    EXPIRED,
    INVALID_LINK,
    PASSWORD,
    REVOKED,
    SIGN_IN_WITH_PASSWORD,
    USED,
    User,
    assert_nothing_created,
    link_in,
    open_link,
    submit,
)
from tests.helpers import page, signed_in

# Tokens ---------------------------------------------------------------------------------

def test_token_is_stored_only_as_its_hash(invite):
    invitation, _ = invite()

    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert invitation.token not in {str(value) for value in stored.values()}
    assert len(stored["token_hash"]) == 64


def test_invitation_link_works_only_once(client, invite):
    invitation, path = invite()
    open_link(client, path)
    submit(client)

    response = Client().get(path)

    assert response.status_code == 410
    assert f"{USED} {SIGN_IN_WITH_PASSWORD}" in page(response)
    assert User.objects.filter(email=invitation.email).count() == 1


def test_used_link_opened_while_signed_out_says_to_sign_in(client, invite):
    _, path = invite()
    open_link(client, path)
    submit(client)

    response = Client().get(path)

    assert response.status_code == 410
    content = page(response)
    assert "<h1>Your account already exists</h1>" in content
    assert f"{USED} {SIGN_IN_WITH_PASSWORD}" in content
    assert '<a class="button" href="/signin/">Go to sign in</a>' in content


@pytest.mark.parametrize("who", ["invited account", "another account"])
def test_used_link_opened_while_signed_in_leads_to_backstage_without_asking_to_sign_in(
    client, invite, make_member, who
):
    invitation, path = invite()
    open_link(client, path)
    submit(client)
    if who == "invited account":
        account = User.objects.get(email=invitation.email)
    else:
        account = make_member("ada@example.com")

    response = signed_in(account).get(path)

    assert response.status_code == 410
    content = page(response)
    assert "<h1>This invitation can't be used</h1>" in content
    assert USED in content
    assert '<a class="button" href="/">Go to Backstage</a>' in content
    assert "sign in" not in content.lower()
    assert 'href="/signin/' not in content


def test_two_browsers_submitting_the_same_link_create_one_account(invite):
    invitation, path = invite()
    first, second = Client(), Client()
    open_link(first, path)
    open_link(second, path)

    assert submit(first).status_code == 302
    response = submit(second, password1="another fine password", password2="another fine password")

    assert f"{USED} {SIGN_IN_WITH_PASSWORD}" in page(response)
    user = User.objects.get(email=invitation.email)
    assert user.check_password(PASSWORD)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_invitation_accepted_four_times_at_once_creates_one_account(invite):
    invitation, _ = invite()

    def accept(password):
        invitation_accept(invitation=invitation, full_name="Grace Hopper", password=password)

    outcomes = races.outcomes(
        *(functools.partial(accept, f"{PASSWORD} {n}") for n in range(4)),
        error=InvitationError, ok="won",
    )
    assert outcomes == ["used", "used", "used", "won"]
    assert User.objects.filter(email=invitation.email).count() == 1
    assert Membership.objects.filter(user__email=invitation.email).count() == 1


def test_expired_invitation_link_is_refused(client, invite):
    invitation, path = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(path)

    assert response.status_code == 410
    assert EXPIRED in page(response)


def test_invitation_expiring_while_the_form_is_open_is_refused_on_submit(client, invite):
    invitation, path = invite()
    open_link(client, path)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = submit(client)

    assert response.status_code == 410
    assert EXPIRED in page(response)
    assert_nothing_created(invitation)


def test_revoked_invitation_link_is_refused(client, invite):
    invitation, path = invite()
    invitation_revoke(invitation=invitation)

    response = client.get(path)

    assert response.status_code == 410
    assert REVOKED in page(response)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.INVITATION_REVOKED).exists()


def test_revoking_after_the_form_was_opened_refuses_the_submit(client, invite):
    invitation, path = invite()
    open_link(client, path)
    invitation_revoke(invitation=invitation)

    response = submit(client)

    assert REVOKED in page(response)
    assert_nothing_created(invitation)


def test_resent_invitation_kills_the_old_link_and_the_new_one_works(client, invite):
    invitation, old_path = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    invitation_resend(invitation=invitation)

    new_path = link_in(mail.outbox[-1])
    assert new_path != old_path
    response = Client().get(old_path)
    assert response.status_code == 404
    assert INVALID_LINK in page(response)
    open_link(client, new_path)
    assert submit(client).status_code == 302
    assert User.objects.filter(email=invitation.email).exists()


def test_used_or_revoked_invitation_cannot_be_resent(invite):
    invitation, _ = invite()
    invitation_revoke(invitation=invitation)

    with pytest.raises(InvitationError) as error:
        invitation_resend(invitation=invitation)

    assert error.value.code == "revoked"


def test_a_new_invitation_replaces_the_earlier_pending_one(client, invite):
    _, first_path = invite()
    _, second_path = invite()

    assert REVOKED in page(client.get(first_path))
    open_link(client, second_path)
    assert Invitation.objects.filter(revoked_at=None).count() == 1


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1],  # a character lost when copying
        lambda token: token + "x",
        lambda token: token.upper(),
        lambda token: "x" * 43,
        lambda token: token * 20,  # far too long to be one of ours
        lambda token: "%00",
    ],
    ids=["truncated", "extra character", "case changed", "made up", "very long", "nul"],
)
def test_mangled_invitation_link_is_refused_with_a_clear_message(client, invite, mangle):
    invitation, _ = invite()

    response = client.get(f"/invitation/{mangle(invitation.token)}/")

    assert response.status_code == 404
    assert INVALID_LINK in page(response)


def test_accept_page_without_an_opened_link_says_what_to_do(client, invite):
    invitation, _ = invite()

    for response in (client.get(ACCEPT_URL), submit(client)):
        assert response.status_code == 404
        assert "Open the link in your invitation email" in page(response)
    assert_nothing_created(invitation)
