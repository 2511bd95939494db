"""Invitations: inviting an email to an organization, and accepting from the link.

Whether the address already has an account or not, inviting it does the same thing: a
pending invitation, the same security event and an email. So whoever invites cannot tell
which addresses have a Backstage account (SECURITY.md 9). The link then either creates the
account (invitation_accept) or, for an existing account, lets its owner join once signed
in (invitation_join).

A link carries a random token; only its SHA-256 is stored (accounts.models.token_hash), so
a copy of the database holds no working link. A link is single use, expires after
settings.INVITATION_VALID_FOR and stops working when the invitation is resent or revoked;
which invitations are pending is Invitation.objects.pending() (and Invitation.state).

Every invitation email, first or resent, is counted against the INVITATIONS_PER_* limits
(settings.LIMITS, read through core.limits), so that the invite form cannot be used to
flood someone's inbox or our mail server's name.
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.emails import send_email, send_email_on_commit
from accounts.events import security_event_record
from accounts.languages import recipient_language
from accounts.models import Invitation, SecurityEvent, User, normalize_email, token_hash
from core.errors import ApplicationError
from core.limits import again_words, duration_words, limit
from organizations.models import Membership, Organization

# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
TOKEN_MAX_LENGTH = 64


class InvitationError(ApplicationError):
    """Why an invitation cannot be created or used; `message` is shown to the person."""


# "used" and "account_exists" state only the fact: whether to sign in next depends on who
# reads it (an admin, a signed-in or a signed-out visitor), so invitation_problem.html says it.
ERRORS = {
    "invalid": _("This invitation link isn't valid. Check that you copied the whole link, "
    "or ask your admin to send a new invitation."),
    "expired": _("This invitation has expired. Ask your organization admin to send a new one."),
    "used": _("This invitation has already been used."),
    "revoked": _("This invitation has been withdrawn. Ask your organization admin if you "
    "still need access."),
    "account_exists": _("An account with this email already exists."),
    "other_account": _("This invitation is for another account."),
    "already_member": _("{email} is already a member of {organization}."),
    "invalid_email": _("Enter a valid email address."),
    "invalid_role": _("Choose a role: admin or member."),
    "limit_address": _("{email} has been sent {most} invitations from {organization} in the "
    "last {window}. You can send another {again}."),
    "limit_organization": _("{organization} has sent {most} invitations in the last {window}. "
    "Try again {again}."),
}


def _error(code: str, **words) -> InvitationError:
    return InvitationError(ERRORS[code].format(**words), code=code)


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


# Why a link that is not pending (Invitation.state) cannot be used.
_NOT_USABLE = {"accepted": "used", "revoked": "revoked", "expired": "expired"}


def _check_usable(invitation: Invitation) -> None:
    if invitation.state != "pending":
        raise _error(_NOT_USABLE[invitation.state])


def _new_token(invitation: Invitation, *, now: datetime) -> str:
    """Give `invitation` a fresh token and expiry (unsaved); return the raw token."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = now + settings.INVITATION_VALID_FOR
    return token


def email_masked(email: str) -> str:
    """`grace@example.com` as `g•••@example.com`: enough to recognise one's own address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def invitation_account_exists(invitation: Invitation) -> bool:
    """Whether the invited address already has an account: then the link joins, not creates."""
    return User.objects.filter(email=invitation.email).exists()


def invitation_is_for(invitation: Invitation, user: User) -> bool:
    return normalize_email(user.email) == invitation.email


def _invitation_email_send(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by
    send_email(
        to=invitation.email,
        template="invitation",
        language=invitation.language,
        context={
            # Only the invitee reads this: the words fit their case, the link is the same.
            "has_account": invitation_account_exists(invitation),
            "organization": invitation.organization,
            "inviter_name": (inviter.full_name or inviter.email) if inviter else "",
            "role": invitation.role,
            "url": invitation_url(token),
            "expires_at": invitation.expires_at,
        },
    )


def _send_limits_check(*, organization: Organization, email: str) -> None:
    """Refuse one more invitation email when a limit is reached.

    Every email is recorded as an INVITATION_SENT event, resends too, so the security
    events are the count: one query for both limits.
    """
    limits = {
        "address": limit("INVITATIONS_PER_ADDRESS"),
        "organization": limit("INVITATIONS_PER_ORGANIZATION"),
    }
    now = timezone.now()
    sent = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.INVITATION_SENT,
        organization=organization,
        created_at__gt=min(rule.since(now) for rule in limits.values()),
    ).aggregate(
        address=Count("pk", filter=Q(
            detail__email=email, created_at__gt=limits["address"].since(now)
        )),
        organization=Count("pk", filter=Q(created_at__gt=limits["organization"].since(now))),
    )
    for scope, rule in limits.items():
        if rule.reached(sent[scope]):
            raise _error(
                f"limit_{scope}", email=email, organization=organization.name, most=rule.max,
                window=duration_words(rule.window, article=False), again=again_words(rule.window),
            )


@transaction.atomic
def invitation_create(
    *,
    email: str,
    organization: Organization,
    role: str = Membership.Role.MEMBER,
    invited_by: User | None = None,
    ip: str | None = None,
    user_agent: str = "",
    limited: bool = True,
    language: str = "",
) -> Invitation:
    """Invite `email` to `organization` with `role` and email them; return the invitation.

    The email is in `language` (the invite form's choice); blank, the inviter's language.

    An address with an account gets exactly what an unknown one gets (see the module
    docstring). Someone who is already a member is refused with InvitationError
    ("already_member"): the admin sees them in the member list anyway, so saying so reveals
    nothing. The raw token is on `invitation.token` (never stored) so that an operator can
    be shown the link. `limited=False` (the operators' commands, which no web request can
    reach) skips the send limits.

    The email is sent last inside the transaction: if the mail server refuses it, nothing
    is left behind that nobody was told about, and the caller can simply try again.
    """
    email = _email_validate(email)
    if role not in Membership.Role.values:
        raise _error("invalid_role")
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise _error("already_member", email=email, organization=organization.name)
    if limited:
        _send_limits_check(organization=organization, email=email)

    now = timezone.now()
    # One live link per person and organization: a new invitation replaces earlier ones.
    replaced = Invitation.objects.unused().filter(
        email=email, organization=organization
    ).update(revoked_at=now)
    invitation = Invitation(
        email=email, organization=organization, role=role, invited_by=invited_by,
        created_at=now, language=recipient_language(invited_by, language),
    )
    token = _new_token(invitation, now=now)
    invitation.save()
    invitation.token = token
    security_event_record(
        kind=SecurityEvent.Kind.INVITATION_SENT, ip=ip, user_agent=user_agent, actor=invited_by,
        organization=organization, email=email, role=role, invitation=invitation.pk,
        replaced=replaced,
    )
    _invitation_email_send(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(
    *,
    invitation: Invitation,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str = "",
    limited: bool = True,
) -> Invitation:
    """Email the invitation again with a new link and expiry; the old link stops working.

    `actor` is who resends it (None: an operator's command); `limited` as for
    invitation_create."""
    invitation = Invitation.objects.select_for_update().select_related("organization").get(
        pk=invitation.pk
    )
    if invitation.accepted_at is not None:
        raise _error("used")
    if invitation.revoked_at is not None:
        raise _error("revoked")
    if limited:
        _send_limits_check(organization=invitation.organization, email=invitation.email)
    token = _new_token(invitation, now=timezone.now())
    invitation.save(update_fields=["token_hash", "expires_at"])
    invitation.token = token
    security_event_record(
        kind=SecurityEvent.Kind.INVITATION_SENT, ip=ip, user_agent=user_agent, actor=actor,
        organization=invitation.organization, email=invitation.email, role=invitation.role,
        invitation=invitation.pk, resent=True,
    )
    _invitation_email_send(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(
    *,
    invitation: Invitation,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> None:
    """Withdraw a pending invitation; its link stops working. Revoking twice is harmless.

    `actor` is who withdraws it (None: an operator)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise _error("used")
    if invitation.revoked_at is not None:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    security_event_record(
        kind=SecurityEvent.Kind.INVITATION_REVOKED, ip=ip, user_agent=user_agent, actor=actor,
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
    ip: str | None = None,
    user_agent: str = "",
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
        kind=SecurityEvent.Kind.ACCOUNT_CREATED, ip=ip, user_agent=user_agent, actor=user,
        subject=user,
        organization=invitation.organization, invitation=invitation.pk, role=invitation.role,
    )

    # The account must not be lost because its email was not: a failure is logged instead
    # of turning a created account into an error page.
    send_email_on_commit(
        to=user.email,
        template="account_created",
        language=user.language,
        context={
            "user": user,
            "organization": invitation.organization,
            "signin_url": settings.SITE_URL + reverse("accounts:signin"),
        },
    )
    return user


@transaction.atomic
def invitation_join(
    *, invitation: Invitation, user: User, ip: str | None = None, user_agent: str = ""
) -> bool:
    """Add `user`, the signed-in owner of the invited address, to its organization; single use.

    Returns whether they became a member now. False means they already were (support staff
    can add an account directly): the invitation is used up all the same, so that it no
    longer shows as pending.
    """
    # The row lock makes two posts of the same invitation wait for each other; the second
    # then sees accepted_at and is refused.
    invitation = (
        Invitation.objects.select_for_update().select_related("organization")
        .get(pk=invitation.pk)
    )
    _check_usable(invitation)
    if not invitation_is_for(invitation, user):
        raise _error("other_account")

    _, created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    if created:
        security_event_record(
            kind=SecurityEvent.Kind.MEMBERSHIP_ADDED, ip=ip, user_agent=user_agent, actor=user,
            subject=user, organization=invitation.organization, role=invitation.role,
            invitation=invitation.pk,
        )
    return created
