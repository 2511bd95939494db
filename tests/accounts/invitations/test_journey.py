"""Journey 1 from end to end: the invitation email, its link, the create-password form, and
the sign-in page it ends on."""

import re
from datetime import timedelta
from urllib.parse import urlencode

from django.core import mail
from django.urls import reverse

from accounts.invitations import invitation_create
from accounts.models import SecurityEvent
from organizations.models import Membership
from tests.accounts.invitations.helpers import (
    ACCEPT_URL,
    CREATED_MESSAGE,
    PASSWORD,
    User,
    html_part,
    link_in,
    open_link,
    submit,
)
from tests.helpers import page

# The whole journey -----------------------------------------------------------------------

def test_invited_person_creates_account_from_email_and_lands_on_signin_with_email_filled(
    client, organization, make_member, django_capture_on_commit_callbacks
):
    inviter = make_member("ada@example.com", organization=organization,
                          role=Membership.Role.ADMIN)
    invitation_create(email="Grace@Example.com", organization=organization,
                      role=Membership.Role.MEMBER, invited_by=inviter)

    [email] = mail.outbox
    assert email.to == ["grace@example.com"]
    assert "Acme Events" in email.subject
    path = link_in(email)
    assert re.search(
        rf'<a href="http://testserver{re.escape(path)}"[^>]*>Log in to Backstage</a>',
        html_part(email),
    )

    open_link(client, path)
    form_page = client.get(ACCEPT_URL)
    assert form_page.status_code == 200
    content = page(form_page)
    assert "grace@example.com" in content
    assert "Confirm account" in content
    assert "I accept the" in content and reverse("accounts:privacy") in content

    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client)

    signin_url = reverse("accounts:signin") + "?" + urlencode({"email": "grace@example.com"})
    assert response.status_code == 302
    assert response["Location"] == signin_url
    user = User.objects.get(email="grace@example.com")
    assert user.full_name == "Grace Hopper"
    assert user.check_password(PASSWORD)
    assert Membership.objects.get(user=user).organization == organization
    assert Membership.objects.get(user=user).role == Membership.Role.MEMBER
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["grace@example.com"]
    assert confirmation.subject == "Your Backstage account has been created"
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {SecurityEvent.Kind.INVITATION_SENT, SecurityEvent.Kind.ACCOUNT_CREATED} <= kinds

    signin_page = client.get(signin_url)
    assert CREATED_MESSAGE in page(signin_page)
    assert 'value="grace@example.com"' in page(signin_page)


def test_invitation_email_names_organization_inviter_and_expiry(
    organization, make_member
):
    inviter = make_member("ada@example.com", organization=organization, full_name="Ada Lovelace")
    invitation = invitation_create(email="grace@example.com", organization=organization,
                                   role=Membership.Role.ADMIN, invited_by=inviter)

    [email] = mail.outbox
    expiry = f"{invitation.expires_at:%-d %B %Y}"
    for part in (email.body, html_part(email)):
        assert "Ada Lovelace" in part
        assert "Acme Events" in part
        assert "an admin" in part
        assert expiry in part
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_invitation_link_opens_for_a_signed_out_browser_and_moves_the_token_out_of_the_url(
    client, invite
):
    _, path = invite()

    response = open_link(client, path)

    assert path.split("/")[2] not in response["Location"]
