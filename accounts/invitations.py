"""Invitations: inviting an email to an organization, and creating the account from the link.

A link carries a random token; only its SHA-256 is stored (accounts.models.token_hash), so
a copy of the database holds no working link. A link is single use, expires after
settings.INVITATION_VALID_FOR and stops working when the invitation is resent or revoked.
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.emails import send_email
from accounts.events import security_event_record
from accounts.models import Invitation, SecurityEvent, User, normalize_email, token_hash
from organizations.models import Membership, Organization

# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
TOKEN_MAX_LENGTH = 64


class InvitationError(Exception):
    """Why an invitation cannot be created or used; `message` is shown to the person."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


ERRORS = {
    "invalid": "This invitation link isn't valid. Check that you copied the whole link, "
    "or ask your admin to send a new invitation.",
    "expired": "This invitation has expired. Ask your organization admin to send a new one.",
    "used": "This invitation has already been used. Sign in with your email and password.",
    "revoked": "This invitation has been withdrawn. Ask your organization admin if you "
    "still need access.",
    "account_exists": "An account with this email already exists. "
    "Sign in with your email and password.",
    "invalid_email": "Enter a valid email address.",
    "invalid_role": "Choose a role: admin or member.",
}


def _error(code: str) -> InvitationError:
    return InvitationError(ERRORS[code], code=code)


def invitation_url(token: str) -> str:
    """The absolute link that goes into the email (and that the `invite` command prints)."""
    return settings.SITE_URL + reverse("accounts:invitation", kwargs={"token": token})


def _email_validate(email: str) -> str:
    # Checked before normalizing, which would trim a trailing CR/LF away unnoticed.
    if any(char in email for char in "\r\n\x00"):
        raise _error("invalid_email")
    email = normalize_email(email)
    try:
        EmailValidator()(email)
    except ValidationError:
        raise _error("invalid_email") from None
    if len(email) > 254:
        raise _error("invalid_email")
    return email


def _check_usable(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise _error("used")
    if invitation.revoked_at is not None:
        raise _error("revoked")
    if invitation.expires_at <= timezone.now():
        raise _error("expired")


def _new_token(invitation: Invitation, *, now: datetime) -> str:
    """Give `invitation` a fresh token and expiry (unsaved); return the raw token."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = now + settings.INVITATION_VALID_FOR
    return token


def _invitation_email_send(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by
    send_email(
        to=invitation.email,
        template="invitation",
        context={
            "organization": invitation.organization,
            "inviter_name": (inviter.full_name or inviter.email) if inviter else "",
            "role": invitation.role,
            "url": invitation_url(token),
            "expires_at": invitation.expires_at,
        },
    )


@transaction.atomic
def invitation_create(
    *,
    email: str,
    organization: Organization,
    role: str = Membership.Role.MEMBER,
    invited_by: User | None = None,
    request: HttpRequest | None = None,
) -> Invitation | None:
    """Invite `email` to `organization` with `role` and email them.

    When the address already has an account, they are added to the organization and told
    by email, and the result is None. Otherwise the result is the new invitation; its raw
    token is on `invitation.token` (never stored) so that an operator can be shown the link.

    The email is sent last inside the transaction: if the mail server refuses it, nothing
    is left behind that nobody was told about, and the caller can simply try again.
    """
    email = _email_validate(email)
    if role not in Membership.Role.values:
        raise _error("invalid_role")
    if invited_by is None and request is not None and request.user.is_authenticated:
        invited_by = request.user

    user = User.objects.filter(email=email).first()
    if user is not None:
        membership, created = Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
        if created:
            security_event_record(
                kind=SecurityEvent.Kind.MEMBERSHIP_ADDED, request=request, actor=invited_by,
                subject=user, organization=organization, role=role,
            )
            send_email(
                to=user.email,
                template="added_to_organization",
                context={
                    "user": user,
                    "organization": organization,
                    "role": membership.role,
                    "inviter_name": (invited_by.full_name or invited_by.email)
                    if invited_by else "",
                    "signin_url": settings.SITE_URL + reverse("accounts:signin"),
                },
            )
        return None

    now = timezone.now()
    # One live link per person and organization: a new invitation replaces earlier ones.
    replaced = Invitation.objects.filter(
        email=email, organization=organization, accepted_at=None, revoked_at=None,
    ).update(revoked_at=now)
    invitation = Invitation(
        email=email, organization=organization, role=role, invited_by=invited_by,
        created_at=now,
    )
    token = _new_token(invitation, now=now)
    invitation.save()
    invitation.token = token
    security_event_record(
        kind=SecurityEvent.Kind.INVITATION_SENT, request=request, actor=invited_by,
        organization=organization, email=email, role=role, invitation=invitation.pk,
        replaced=replaced,
    )
    _invitation_email_send(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, request: HttpRequest | None = None) -> Invitation:
    """Email the invitation again with a new link and expiry; the old link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise _error("used")
    if invitation.revoked_at is not None:
        raise _error("revoked")
    token = _new_token(invitation, now=timezone.now())
    invitation.save(update_fields=["token_hash", "expires_at"])
    invitation.token = token
    security_event_record(
        kind=SecurityEvent.Kind.INVITATION_SENT, request=request,
        organization=invitation.organization, email=invitation.email, role=invitation.role,
        invitation=invitation.pk, resent=True,
    )
    _invitation_email_send(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, request: HttpRequest | None = None) -> None:
    """Withdraw a pending invitation; its link stops working. Revoking twice is harmless."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise _error("used")
    if invitation.revoked_at is not None:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    security_event_record(
        kind=SecurityEvent.Kind.INVITATION_REVOKED, request=request,
        organization=invitation.organization, email=invitation.email, invitation=invitation.pk,
    )


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation that `token` opens, or InvitationError saying why not."""
    # Looked up by hash: the database never sees the token, and a timing difference
    # in the lookup says nothing about which tokens exist.
    invitation = None
    if token and len(token) <= TOKEN_MAX_LENGTH:
        invitation = (
            Invitation.objects.select_related("organization", "invited_by")
            .filter(token_hash=token_hash(token)).first()
        )
    if invitation is None:
        raise _error("invalid")
    _check_usable(invitation)
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    full_name: str,
    password: str | None,
    request: HttpRequest | None = None,
) -> User:
    """Create the account of the invitation's email, with its membership; single use.

    `full_name` and `password` are already validated (accounts.invitation_forms). No
    password (None) makes an account that signs in only with enterprise login.
    """
    # The row lock makes two submissions of the same link wait for each other; the
    # second then sees accepted_at and is refused.
    invitation = (
        Invitation.objects.select_for_update().select_related("organization")
        .get(pk=invitation.pk)
    )
    _check_usable(invitation)
    if User.objects.filter(email=invitation.email).exists():
        raise _error("account_exists")

    user = User(email=invitation.email, full_name=full_name)
    user.set_password(password)  # None: unusable
    try:
        # A savepoint, so that losing a race to another invitation for the same email
        # (the unique constraint) leaves this transaction usable for the error.
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise _error("account_exists") from None

    now = timezone.now()
    Membership.objects.create(user=user, organization=invitation.organization,
                              role=invitation.role)
    invitation.accepted_at = now
    invitation.save(update_fields=["accepted_at"])
    security_event_record(
        kind=SecurityEvent.Kind.ACCOUNT_CREATED, request=request, actor=user, subject=user,
        organization=invitation.organization, invitation=invitation.pk, role=invitation.role,
    )
    _other_invitations_accept(user=user, accepted=invitation, request=request)

    # After commit: the account must not be lost because the mail server is down, and
    # robust=True logs a failure instead of turning a created account into an error page.
    transaction.on_commit(
        lambda: send_email(
            to=user.email,
            template="account_created",
            context={
                "user": user,
                "organization": invitation.organization,
                "signin_url": settings.SITE_URL + reverse("accounts:signin"),
            },
        ),
        robust=True,
    )
    return user


def _other_invitations_accept(*, user: User, accepted: Invitation, request) -> None:
    """Honour the other pending invitations to the same address.

    Inviting an address that has an account adds the membership (invitation_create); an
    invitation sent before the account existed gets the same outcome here. Otherwise the
    person could never use it: its link would create an account that already exists.
    """
    others = (
        Invitation.objects.select_for_update().select_related("organization")
        .filter(email=user.email, accepted_at=None, revoked_at=None,
                expires_at__gt=timezone.now())
        .exclude(pk=accepted.pk)
    )
    for other in others:
        _, created = Membership.objects.get_or_create(
            user=user, organization=other.organization, defaults={"role": other.role}
        )
        other.accepted_at = timezone.now()
        other.save(update_fields=["accepted_at"])
        if created:
            security_event_record(
                kind=SecurityEvent.Kind.MEMBERSHIP_ADDED, request=request, actor=user,
                subject=user, organization=other.organization, role=other.role,
                invitation=other.pk,
            )
