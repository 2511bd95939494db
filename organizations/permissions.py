"""Who may do what to whom in an organization: plain functions of people and objects.

Pages first look objects up inside what the person may see (STYLE habit 4), so another
organization answers like a missing one; these functions then decide the actions, and the
services in organizations.members ask them again before changing anything.
"""

from enum import StrEnum

from organizations.models import Membership, Organization


class Refusal(StrEnum):
    OWN_PHONE = "own_phone"  # allowed to reset phones, but not their own: ask a colleague
    SUPPORT_ACCOUNT = "support_account"  # a staff or superuser account: Support's to change
    FORBIDDEN = "forbidden"


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def organization_admin(user, organization: Organization) -> bool:
    """Whether `user` is an admin of `organization`."""
    return _active(user) and Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists()


def members_manage_allowed(user, organization: Organization) -> bool:
    """Invite, change roles, remove members, resend and revoke invitations, see the activity:
    admins of the organization only. Support staff do the same from Django admin."""
    return organization_admin(user, organization) or (_active(user) and user.is_staff)


def support_account_refusal(*, actor, member) -> Refusal | None:
    """Refused unless `actor` is support staff, when `member` is a staff or superuser account.

    Whoever took over an organization admin must not reach Django admin through a support
    account in their organization: removing its phone (the next sign-in sets a new one with
    the password alone) or its membership is Support's. The Members page and the services
    in organizations.members both ask this.
    """
    if (member.is_staff or member.is_superuser) and not (_active(actor) and actor.is_staff):
        return Refusal.SUPPORT_ACCOUNT
    return None


def phone_reset_refusal(*, actor, member) -> Refusal | None:
    """Why `actor` may not remove `member`'s phone, or None when they may (SPEC journey 8).

    Support staff may reset anyone's phone, and an admin the phone of anyone in an
    organization they administer; nobody resets their own, since whoever took the phone
    could otherwise take the account: they ask another admin (or Support).
    """
    if not _active(actor) or member is None:
        return Refusal.FORBIDDEN
    if actor.pk == member.pk:
        may_reset_others = actor.is_staff or Membership.objects.filter(
            user=actor, role=Membership.Role.ADMIN
        ).exists()
        return Refusal.OWN_PHONE if may_reset_others else Refusal.FORBIDDEN
    if actor.is_staff:
        return None
    shares_an_organization_as_admin = Membership.objects.filter(
        user=actor, role=Membership.Role.ADMIN, organization__memberships__user=member
    ).exists()
    if not shares_an_organization_as_admin:
        return Refusal.FORBIDDEN
    return support_account_refusal(actor=actor, member=member)


def phone_reset_allowed(*, actor, member) -> bool:
    return phone_reset_refusal(actor=actor, member=member) is None
