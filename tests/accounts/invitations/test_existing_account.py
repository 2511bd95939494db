"""Journeys 1-2: invitations by email, and creating the password from the link."""

import re
import threading
from datetime import timedelta
from urllib.parse import urlencode, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_join,
    invitation_resend,
    invitation_revoke,
    invitation_url,
)
from accounts.models import Invitation, SecurityEvent
from accounts.signin import METHOD_KEY
from organizations.models import EmailDomain, EnterpriseLogin, Membership
from tests.helpers import page, signed_in

User = get_user_model()

ACCEPT_URL = "/invitation/accept/"
LINK_PATTERN = re.compile(r"http://testserver(/invitation/[A-Za-z0-9_-]+/)")
PASSWORD = "correct horse battery staple"
VALID_FORM = {
    "full_name": "Grace Hopper",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "accept_privacy": "on",
}

INVALID_LINK = "This invitation link isn't valid. Check that you copied the whole link"
EXPIRED = "This invitation has expired. Ask your organization admin to send a new one."
USED = "This invitation has already been used."
SIGN_IN_WITH_PASSWORD = "Sign in with your email and password."
REVOKED = "This invitation has been withdrawn."
CREATED_MESSAGE = "Your account has been created. Sign in to continue."


@pytest.fixture
def organization(make_organization):
    return make_organization("Acme Events")


@pytest.fixture
def invite(organization):
    """Invite an email to the organization; returns the invitation and its link's path."""

    def make(email="grace@example.com", role=Membership.Role.MEMBER, invited_by=None):
        invitation = invitation_create(
            email=email, organization=organization, role=role, invited_by=invited_by
        )
        return invitation, urlparse(invitation_url(invitation.token)).path

    return make


def link_in(message) -> str:
    """The path of the invitation link in an email's text part."""
    match = LINK_PATTERN.search(message.body)
    assert match, message.body
    return match.group(1)


def html_part(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def open_link(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == ACCEPT_URL
    return response


def submit(client, **changes):
    return client.post(ACCEPT_URL, {**VALID_FORM, **changes})


def assert_nothing_created(invitation):
    assert not User.objects.filter(email=invitation.email).exists()
    assert not Membership.objects.filter(user__email=invitation.email).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


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
    start = threading.Barrier(4)
    outcomes = []

    def accept(password):
        start.wait()
        try:
            invitation_accept(invitation=invitation, full_name="Grace Hopper", password=password)
            outcomes.append("won")
        except InvitationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(f"{PASSWORD} {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["used", "used", "used", "won"]
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


# The create-password form ------------------------------------------------------------

@pytest.fixture
def opened(client, invite):
    """A browser that has opened Grace's invitation link; returns the invitation."""
    invitation, path = invite()
    open_link(client, path)
    return invitation


def test_password_of_11_characters_is_rejected(client, opened):
    response = submit(client, password1="abcdefghijk", password2="abcdefghijk")

    assert response.status_code == 200
    assert "This password is too short. It must contain at least 12 characters." in (
        page(response)
    )
    assert_nothing_created(opened)


def test_password_of_12_characters_is_accepted(client, opened):
    response = submit(client, password1="abcdefghijkl", password2="abcdefghijkl")

    assert response.status_code == 302
    assert User.objects.get(email=opened.email).check_password("abcdefghijkl")


def test_common_password_is_rejected_with_the_reason(client, opened):
    response = submit(client, password1="qwerty123456", password2="qwerty123456")

    assert "This password is too common." in page(response)
    assert_nothing_created(opened)


def test_password_similar_to_the_email_is_rejected(client, invite):
    invitation, path = invite(email="gracehopper@example.com")
    open_link(client, path)

    response = submit(client, password1="gracehopper1", password2="gracehopper1")

    assert "The password is too similar to the email." in page(response)
    assert_nothing_created(invitation)


def test_password_similar_to_the_full_name_is_rejected(client, opened):
    response = submit(client, full_name="Bartholomew Quintessence",
                      password1="quintessence1", password2="quintessence1")

    assert "The password is too similar to the full name." in page(response)
    assert_nothing_created(opened)


def test_long_passphrase_with_spaces_and_no_digits_or_capitals_is_accepted(client, opened):
    passphrase = ("the quick brown fox jumps over the lazy dog " * 3)[:100]
    assert len(passphrase) == 100

    response = submit(client, password1=passphrase, password2=passphrase)

    assert response.status_code == 302
    user = User.objects.get(email=opened.email)
    assert user.check_password(passphrase)
    assert not user.check_password(passphrase[:72])


def test_password_longer_than_256_characters_is_rejected(client, opened):
    password = "x y " * 65

    response = submit(client, password1=password, password2=password)

    assert "Your password can have at most 256 characters." in page(response)
    assert_nothing_created(opened)


def test_passwords_that_do_not_match_are_rejected(client, opened):
    response = submit(client, password2=PASSWORD + "!")

    assert "The two passwords don't match." in page(response)
    assert_nothing_created(opened)


def test_privacy_policy_must_be_accepted(client, opened):
    form = {key: value for key, value in VALID_FORM.items() if key != "accept_privacy"}

    response = client.post(ACCEPT_URL, form)

    assert "Accept the privacy policy to create your account." in page(response)
    assert_nothing_created(opened)


@pytest.mark.parametrize(
    ("full_name", "message"),
    [
        ("", "Enter your full name."),
        ("   \t ", "Enter your full name."),
        ("G" * 10_000, "Your name can have at most 150 characters (it has 10000)."),
        ("Grace\nHopper", "Your name can't contain control characters or line breaks."),
        ("Grace\x07Hopper", "Your name can't contain control characters or line breaks."),
        ("Grace\x00Hopper", "Your name can't contain control characters."),
        ("Grace \u202eHopper", "Your name can't contain control characters or line breaks."),
    ],
    ids=["empty", "whitespace", "10 kB", "newline", "bell", "nul", "right-to-left override"],
)
def test_bad_full_name_is_rejected_with_a_message(client, opened, full_name, message):
    response = submit(client, full_name=full_name)

    assert response.status_code == 200
    content = page(response)
    assert message in content
    assert 'class="error-summary"' in content
    assert_nothing_created(opened)


def test_name_with_a_script_tag_is_stored_as_text_and_escaped_on_output(
    client, opened, django_capture_on_commit_callbacks
):
    name = "<script>alert(1)</script> Hopper"

    redisplayed = submit(client, full_name=name, password2="does not match at all")
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, full_name=name)

    raw = redisplayed.content.decode()  # as sent, before any entity is decoded
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hopper" in raw
    assert User.objects.get(email=opened.email).full_name == name
    confirmation = mail.outbox[-1]
    assert "<script>" not in html_part(confirmation)
    assert "&lt;script&gt;" in html_part(confirmation)


def test_unicode_full_name_and_password_are_accepted(client, opened):
    response = submit(client, full_name="Zoë Ørsted-Łukasiewicz 山田",
                      password1="ñandú pingüino café", password2="ñandú pingüino café")

    assert response.status_code == 302
    user = User.objects.get(email=opened.email)
    assert user.full_name == "Zoë Ørsted-Łukasiewicz 山田"
    assert user.check_password("ñandú pingüino café")


def test_form_without_csrf_token_is_refused(invite):
    invitation, path = invite()
    browser = Client(enforce_csrf_checks=True)
    open_link(browser, path)

    response = browser.post(ACCEPT_URL, VALID_FORM)

    assert response.status_code == 403
    assert_nothing_created(invitation)


def test_form_shows_errors_next_to_fields_with_a_summary(client, opened):
    response = submit(client, full_name="", password2="something else entirely")

    content = page(response)
    # A summary at the top of the form, then each error just before its field.
    assert content.index('class="error-summary"') < content.index('name="full_name"')
    assert content.index("Enter your full name.") < content.index('name="full_name"')
    assert '<label for="id_password2">Password again' in content


def test_privacy_policy_page_is_public_and_says_what_is_stored(client):
    response = client.get(reverse("accounts:privacy"))

    assert response.status_code == 200
    content = page(response)
    for item in ("email address", "full name", "mobile phone number", "Sign-in events"):
        assert item in content


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
    start = threading.Barrier(4)
    outcomes = []

    def join():
        start.wait()
        try:
            invitation_join(invitation=invitation, user=grace)
            outcomes.append("won")
        except InvitationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=join) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["used", "used", "used", "won"]
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
