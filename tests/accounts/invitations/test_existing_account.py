"""Journey 2: an invitation to someone who already has an account, who signs in and joins."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import InvitationError, invitation_join, invitation_revoke
from accounts.models import Invitation, SecurityEvent
from accounts.signin import METHOD_KEY
from organizations.models import EmailDomain, EnterpriseLogin, Membership
from tests import races
from tests.accounts.invitations.helpers import (
    ACCEPT_URL,
    EXPIRED,
    REVOKED,
    SIGN_IN_WITH_PASSWORD,
    USED,
    open_link,
)
from tests.helpers import page, signed_in

# Invitations to an existing account ----------------------------------------------------------

SIGN_IN_TO_JOIN = "You already have a Backstage account with grace@example.com."
OTHER_ACCOUNT = "This invitation is for another account"
JOINED = "You've joined Acme Events."


@pytest.fixture
def grace(enrolled_member, make_organization):
    """An account with a phone, in another organization than the one that invites her."""
    return enrolled_member("grace@example.com", organization=make_organization("Other Org"),
                           full_name="Grace Hopper")


def joined(user, organization) -> bool:
    return Membership.objects.filter(user=user, organization=organization).exists()


def test_existing_account_signs_in_from_the_invitation_and_comes_back_to_join_once(
    client, organization, invite, grace, sign_in, last_code
):
    invitation, path = invite(role=Membership.Role.ADMIN)
    open_link(client, path)

    invited = client.get(ACCEPT_URL)
    assert invited.status_code == 200
    content = page(invited)
    assert "<h1>Join Acme Events</h1>" in content
    assert SIGN_IN_TO_JOIN in content
    assert 'name="password1"' not in content and "Confirm account" not in content
    signin_url = "/signin/?" + urlencode({"email": "grace@example.com", "next": path})
    assert f'href="{signin_url}">Log in to Backstage</a>' in content

    # The whole sign-in: the link's page, the password, then the SMS code.
    assert f'name="next" value="{path}"' in page(client.get(signin_url))
    assert sign_in(email="grace@example.com", next=path)["Location"] == "/signin/code/"
    assert not joined(grace, organization)
    back = client.post("/signin/code/", {"code": last_code()})
    assert back["Location"] == path

    open_link(client, path)
    join_page = page(client.get(ACCEPT_URL))
    assert '<button type="submit">Join Acme Events</button>' in join_page
    assert "as an admin" in join_page
    assert not joined(grace, organization)

    response = client.post(ACCEPT_URL, follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    assert JOINED in page(response)
    assert Membership.objects.get(user=grace, organization=organization).role == (
        Membership.Role.ADMIN
    )
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MEMBERSHIP_ADDED)
    assert (event.actor, event.subject, event.organization) == (grace, grace, organization)

    # Posting again, or opening the used link again: a clear page, no second membership.
    again = client.post(ACCEPT_URL)
    assert again.status_code == 404
    assert "Open the link in your invitation email" in page(again)
    reused = client.get(path)
    assert reused.status_code == 410
    assert USED in page(reused)
    assert SIGN_IN_WITH_PASSWORD not in page(reused)
    assert Membership.objects.filter(user=grace, organization=organization).count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBERSHIP_ADDED).count() == 1


def test_two_browsers_joining_with_the_same_link_make_one_membership(organization, invite, grace):
    _, path = invite()
    first, second = signed_in(grace), signed_in(grace)
    open_link(first, path)
    open_link(second, path)

    assert first.post(ACCEPT_URL).status_code == 302
    response = second.post(ACCEPT_URL)

    assert response.status_code == 410
    assert USED in page(response)
    assert SIGN_IN_WITH_PASSWORD not in page(response)
    assert Membership.objects.filter(user=grace, organization=organization).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_join_posted_four_times_at_once_adds_one_membership(
    organization, invite, grace
):
    invitation, _ = invite()

    def join():
        invitation_join(invitation=invitation, user=grace)

    outcomes = races.outcomes(*[join] * 4, error=InvitationError, ok="won")
    assert outcomes == ["used", "used", "used", "won"]
    assert Membership.objects.filter(user=grace, organization=organization).count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBERSHIP_ADDED).count() == 1


def test_joining_when_already_added_meanwhile_uses_up_the_invitation_and_says_so(
    organization, invite, grace
):
    invitation, path = invite(role=Membership.Role.ADMIN)
    # Support staff can add an account directly (Django admin) while the invitation waits.
    Membership.objects.create(user=grace, organization=organization)
    browser = signed_in(grace)
    open_link(browser, path)

    response = browser.post(ACCEPT_URL, follow=True)

    assert "You're already a member of Acme Events." in page(response)
    assert Membership.objects.get(user=grace, organization=organization).role == (
        Membership.Role.MEMBER
    )
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBERSHIP_ADDED).exists()


def test_signed_in_as_another_account_the_invitation_says_so_and_offers_to_sign_out(
    organization, invite, grace, make_member
):
    invitation, path = invite()
    ada = make_member("ada@example.com", organization=organization)
    browser = signed_in(ada)
    open_link(browser, path)

    for response in (browser.get(ACCEPT_URL), browser.post(ACCEPT_URL)):
        assert response.status_code == 403
        content = page(response)
        assert OTHER_ACCOUNT in content
        assert "was sent to g•••@example.com, but you're signed in as ada@example.com" in content
        assert "grace@example.com" not in content
        assert f'<input type="hidden" name="next" value="{path}">' in content
        assert '<button type="submit">Sign out</button>' in content
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not joined(grace, organization)
    assert Membership.objects.filter(user=ada).count() == 1

    signed_out = browser.post(reverse("accounts:signout"), {"next": path})

    assert signed_out["Location"] == path
    open_link(browser, path)
    assert SIGN_IN_TO_JOIN in page(browser.get(ACCEPT_URL))


@pytest.mark.parametrize(("end", "message"), [("expired", EXPIRED), ("revoked", REVOKED)],
                         ids=["expired", "revoked"])
def test_expired_or_revoked_invitation_of_an_existing_account_shows_the_problem_page(
    organization, invite, grace, end, message
):
    invitation, path = invite()
    browser = signed_in(grace)
    open_link(browser, path)
    if end == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    else:
        invitation_revoke(invitation=invitation)

    for response in (browser.post(ACCEPT_URL), browser.get(path), Client().get(path)):
        assert response.status_code == 410
        assert message in page(response)
    assert not joined(grace, organization)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_join_without_csrf_token_is_refused(organization, invite, grace):
    invitation, path = invite()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(grace)
    session = browser.session
    session[METHOD_KEY] = "sms"
    session.save()
    open_link(browser, path)
    form = page(browser.get(ACCEPT_URL))

    response = browser.post(ACCEPT_URL)

    assert response.status_code == 403
    assert "CSRF verification failed" in page(response)
    assert not joined(grace, organization)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert browser.post(ACCEPT_URL, {"csrfmiddlewaretoken": token}).status_code == 302
    assert joined(grace, organization)


def test_existing_account_of_a_mandatory_enterprise_login_domain_is_sent_to_enterprise_login(
    client, invite, make_member, make_organization
):
    initech = make_organization("Initech")
    EmailDomain.objects.create(organization=initech, domain="initech.com")
    EnterpriseLogin.objects.create(organization=initech, enabled=True, mandatory=True)
    make_member("lin@initech.com", organization=initech)
    _, path = invite(email="lin@initech.com")
    open_link(client, path)

    content = page(client.get(ACCEPT_URL))

    enterprise_url = "/signin/enterprise/?" + urlencode({"email": "lin@initech.com",
                                                         "next": path})
    assert f'href="{enterprise_url}">Log in to Backstage</a>' in content
    assert 'name="password1"' not in content
