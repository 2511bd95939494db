"""Members of an organization: resetting a phone, changing a role, removing a member.

The Members page and Django admin call these same functions (STYLE habit 3). Each checks
permission itself (organizations.permissions), validates everything before its first write,
and raises MemberError with the words to show, or PermissionDenied for the wrong person.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from accounts.emails import send_email
from accounts.events import security_event_record
from accounts.languages import recipient_language
from accounts.models import SecurityEvent, User
from accounts.services import user_sessions_end
from core.compiled import compiled_select
from core.errors import ApplicationError
from core.http import client_of
from mfa.factors import second_factors_remove
from mfa.models import SmsDevice
from mfa.trust import remembered_browsers_forget
from organizations.models import Membership, Organization
from organizations.permissions import (
    Refusal,
    members_manage_allowed,
    phone_reset_refusal,
    support_account_refusal,
)


class MemberError(ApplicationError):
    """Why a change to a member cannot be made; `message` is shown to the person."""


ERRORS = {
    "own_phone": _("You can't remove your own phone. Ask another admin of your organization "
    "to do it."),
    "no_phone": _("{name} has no phone to remove."),
    "last_admin": _("{organization} must keep at least one admin. Make someone else an admin "
    "first."),
    "invalid_role": _("Choose a role: admin or member."),
    "already_member": _("{name} is already a member of {organization}."),
    "not_member": _("This person is no longer a member of the organization."),
    "support_account": _("{name} has a Backstage Support account: only Backstage Support can "
    "remove its phone or remove it from an organization."),
}


def _error(code: str, **words) -> MemberError:
    return MemberError(ERRORS[code].format(**words), code=code)


def display_name(user: User) -> str:
    return user.full_name or user.email


# Phone reset ---------------------------------------------------------------------------------


def phone_reset_check(*, actor, member: User) -> None:
    """Raise unless `actor` may remove `member`'s phone: PermissionDenied for the wrong
    person, MemberError("own_phone") for an admin (or support staff) on themself."""
    refusal = phone_reset_refusal(actor=actor, member=member)
    if refusal == Refusal.OWN_PHONE:
        raise _error("own_phone")
    if refusal == Refusal.SUPPORT_ACCOUNT:
        raise _error("support_account", name=display_name(member))
    if refusal is not None:
        raise PermissionDenied


@transaction.atomic
def member_phone_reset(
    *,
    actor: User,
    member: User,
    request: HttpRequest | None = None,
    organization: Organization | None = None,
) -> None:
    """Remove `member`'s phone so that their next sign-in asks for a new number (journey 8).

    Deletes every second factor of theirs (mfa.factors.second_factors_remove: the phone, the
    authenticator app, the passkeys and the recovery codes; a lost phone usually holds the
    app and often the passkeys, and with any of them left the member would be stuck at its
    step), ends every session of theirs at once, forgets every browser remembered for them,
    records PHONE_REMOVED and emails them.
    `organization` is the one whose Members page it was done from (None from Django admin).
    """
    phone_reset_check(actor=actor, member=member)
    # The row lock makes two admins pressing the button at once reset once, not twice.
    device = SmsDevice.objects.on_file().select_for_update().filter(user=member).first()
    if device is None:
        raise _error("no_phone", name=display_name(member))

    number_ending = str(device.number)[-2:]
    removed = second_factors_remove(user=member)
    user_sessions_end(user=member, request=request, actor=actor)
    forgotten = remembered_browsers_forget(user=member)
    security_event_record(
        kind=SecurityEvent.Kind.PHONE_REMOVED, **client_of(request), actor=actor, subject=member,
        organization=organization, number_ending=number_ending, browsers_forgotten=forgotten,
        **removed,
    )
    context = {
        "member": member,
        "actor_name": display_name(actor),
        "by_support": actor.is_staff and organization is None,
        "organization": organization,
        **removed,
        **_removed_words(removed, member=member),
        "signin_url": settings.SITE_URL + reverse("accounts:signin"),
    }
    # Stored with the reset (accounts.emails.send_email), so that an email never announces
    # a reset that was rolled back, and a reset is never without its email. The mail server
    # is the worker's business: one that is down cannot undo the reset.
    send_email(to=member.email, template="phone_reset", context=context, language=member.language)


def _removed_words(removed: dict[str, bool], *, member: User) -> dict[str, str]:
    """What else than the phone a reset removed, worded for the email: `also` follows "the
    phone number", `subject_also` follows "The phone" in the subject.

    Worded here, in the language the email goes out in (send_email picks the same one), so
    the task stores finished words; the templates only place them.
    """
    with translation.override(recipient_language(user=member)):
        others = [
            words for key, words in [
                ("authenticator_removed", (
                    gettext("the authenticator app"),
                    pgettext("phone reset email subject", "authenticator app"),
                )),
                ("passkeys_removed", (
                    gettext("the passkeys"),
                    pgettext("phone reset email subject", "passkeys"),
                )),
                ("recovery_codes_removed", (
                    gettext("the recovery codes"),
                    pgettext("phone reset email subject", "recovery codes"),
                )),
            ]
            if removed.get(key)
        ]

        def joined(names: list[str]) -> str:
            if not names:
                return ""
            if len(names) == 1:
                return gettext(" and %(last)s") % {"last": names[0]}
            return gettext(", %(first)s and %(last)s") % {
                "first": ", ".join(names[:-1]), "last": names[-1],
            }

        return {
            "also": joined([body for body, _subject in others]),
            "subject_also": joined([subject for _body, subject in others]),
        }


# Roles and membership ------------------------------------------------------------------------


def _manage_check(*, actor, organization: Organization) -> None:
    if not members_manage_allowed(actor, organization):
        raise PermissionDenied


def _locked(membership: Membership) -> tuple[Membership | None, bool]:
    """`membership` read again under a row lock (None if it is gone), and whether its
    organization keeps an admin without it.

    The organization's admin rows are locked first, in one order, so that two admins demoting
    each other at the same moment wait for each other instead of both succeeding.
    """
    admins = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Membership.Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    current = (
        Membership.objects.select_for_update().select_related("user", "organization")
        .filter(pk=membership.pk).first()
    )
    return current, any(pk != membership.pk for pk in admins)


def _last_admin_check(membership: Membership, *, other_admins: bool) -> None:
    if membership.role == Membership.Role.ADMIN and not other_admins:
        raise _error("last_admin", organization=membership.organization.name)


@transaction.atomic
def membership_role_change(
    *,
    actor: User,
    membership: Membership,
    role: str,
    ip: str | None = None,
    user_agent: str = "",
) -> Membership:
    """Give `membership` the `role`; the organization always keeps at least one admin."""
    _manage_check(actor=actor, organization=membership.organization)
    if role not in Membership.Role.values:
        raise _error("invalid_role")
    current, other_admins = _locked(membership)
    if current is None:
        raise _error("not_member")
    if current.role == role:
        return current
    _last_admin_check(current, other_admins=other_admins)
    previous, current.role = current.role, role
    current.save(update_fields=["role"])
    security_event_record(
        kind=SecurityEvent.Kind.ROLE_CHANGED, ip=ip, user_agent=user_agent, actor=actor,
        subject=current.user, organization=current.organization,
        previous_role=previous, role=role,
    )
    return current


def membership_remove_check(*, actor, member: User) -> None:
    """Raise MemberError unless `actor` may take `member` out of an organization whose
    members they manage: a Backstage Support account is Support's to remove."""
    if support_account_refusal(actor=actor, member=member):
        raise _error("support_account", name=display_name(member))


@transaction.atomic
def membership_remove(
    *, actor: User, membership: Membership, ip: str | None = None, user_agent: str = ""
) -> None:
    """Take `membership`'s person out of the organization; its last admin cannot go.

    The account stays (it may belong to other organizations); their sessions stay too, but
    nothing of this organization is reachable from them any more.
    """
    _manage_check(actor=actor, organization=membership.organization)
    current, other_admins = _locked(membership)
    if current is None:  # removed meanwhile: the outcome asked for
        return
    membership_remove_check(actor=actor, member=current.user)
    _last_admin_check(current, other_admins=other_admins)
    current.delete()
    security_event_record(
        kind=SecurityEvent.Kind.MEMBER_REMOVED, ip=ip, user_agent=user_agent, actor=actor,
        subject=current.user, organization=current.organization, role=current.role,
    )


@transaction.atomic
def membership_add(
    *,
    actor: User,
    organization: Organization,
    user: User,
    role: str = Membership.Role.MEMBER,
    ip: str | None = None,
    user_agent: str = "",
) -> Membership:
    """Add an existing account to `organization` (support staff, from Django admin).

    Inviting by email (accounts.invitations.invitation_create) is the way from the Members
    page; this one is for support staff, who pick the account itself.
    """
    _manage_check(actor=actor, organization=organization)
    if role not in Membership.Role.values:
        raise _error("invalid_role")
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created:
        raise _error("already_member", name=display_name(user), organization=organization.name)
    security_event_record(
        kind=SecurityEvent.Kind.MEMBERSHIP_ADDED, ip=ip, user_agent=user_agent, actor=actor,
        subject=user, organization=organization, role=role,
    )
    return membership


# Reading -------------------------------------------------------------------------------------


def organization_admins(organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


_ADMIN_FIELDS = ("organization_id", "organization__name", "user__full_name", "user__email")

# Built by the ORM once (core.compiled): the code page asks on every sign-in.
_admins_to_ask = compiled_select(
    lambda user_id: Membership.objects.filter(
        role=Membership.Role.ADMIN,
        organization__in=Membership.objects.filter(user_id=user_id).values("organization"),
    )
    .exclude(user_id=user_id)
    .order_by("organization__name", "organization_id", "user__full_name", "user__email")
    .values_list(*_ADMIN_FIELDS),
    user_id=int,
)


def admins_to_ask(user: User) -> list[dict]:
    """The admins of `user`'s organizations, other than themself: whom to ask for a phone
    reset ("Can't use this phone?"), as rows of the organization's id and name and the
    admin's name and email (named as values() names them). One query.

    Rows rather than memberships with their users and organizations: the code page shows
    these four values, and making the three models of each row was most of that page's
    cost (issue 12's profile).
    """
    rows = _admins_to_ask.all(user_id=user.pk)
    return [dict(zip(_ADMIN_FIELDS, row, strict=True)) for row in rows]


def activity_events(organization: Organization) -> QuerySet[SecurityEvent]:
    """The organization's security events, newest first.

    Those recorded for it (invitations, roles, removals, resets done from its Members page),
    and those about one of its current members that belong to no organization (sign-ins,
    failed codes, lockouts, phone set or changed, resets by support staff). Events that
    another organization recorded about a shared member stay with that organization.
    """
    # A subquery, not a join: a join through memberships would repeat an event once per
    # organization of its subject.
    members = Membership.objects.filter(organization=organization).values("user")
    return (
        SecurityEvent.objects.filter(
            Q(organization=organization) | Q(organization__isnull=True, subject__in=members)
        )
        .select_related("actor", "subject")
        .order_by("-created_at", "-id")
    )


ROLE_WORDS = dict(Membership.Role.choices)
METHOD_WORDS = {
    "password": _("with the password"),
    "sms": _("with the password and a code"),
    "totp": _("with the password and an authenticator app"),
    "passkey": _("with the password and a passkey"),
    "passwordless": _("with a passkey, without a password"),
    "recovery": _("with the password and a recovery code"),
    "remembered": _("with the password, on a remembered browser"),
    "sso": _("with enterprise login"),
}


def event_summary(event: SecurityEvent) -> str:
    """The details of an event in words, for the Activity page (never a secret: see
    accounts.events)."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    words = []
    if detail.get("email"):
        words.append(str(detail["email"]))
    role, previous = detail.get("role"), detail.get("previous_role")
    if previous in ROLE_WORDS and role in ROLE_WORDS:
        words.append(f"{ROLE_WORDS[previous]} → {ROLE_WORDS[role]}")
    elif role in ROLE_WORDS:
        words.append(_("as %(role)s") % {"role": str(ROLE_WORDS[role]).lower()})
    if detail.get("method") in METHOD_WORDS:
        words.append(str(METHOD_WORDS[detail["method"]]))
    if detail.get("passkey"):
        words.append(_("passkey “%(name)s”") % {"name": detail["passkey"]})
    if detail.get("resent"):
        words.append(str(_("sent again")))
    if detail.get("number_ending"):
        words.append(_("number ending in %(digits)s") % {"digits": detail["number_ending"]})
    if detail.get("factor") == "recovery":
        words.append(str(_("a recovery code")))
    if isinstance(detail.get("codes_left"), int):
        left = detail["codes_left"]
        words.append(ngettext(
            "%(left)d recovery code left", "%(left)d recovery codes left", left
        ) % {"left": left})
    if detail.get("passkeys_removed"):
        words.append(str(_("passkeys removed")))
    if detail.get("recovery_codes_removed"):
        words.append(str(_("recovery codes removed")))
    return ", ".join(words)
