"""Two admins acting at the same moment: the database decides (PostgreSQL row locks)."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import SecurityEvent
from mfa.models import SmsDevice
from organizations.members import (
    MemberError,
    member_phone_reset,
    membership_remove,
    membership_role_change,
)
from organizations.models import Membership
from tests import races

ADMIN, MEMBER = Membership.Role.ADMIN, Membership.Role.MEMBER


def race(*calls) -> list[str]:
    """What each call came to: "ok", a MemberError's code or "PermissionDenied"."""
    return races.outcomes(*calls, error=(MemberError, PermissionDenied))


@pytest.fixture
def two_admins(make_organization, make_member):
    acme = make_organization("Acme Events", slug="acme-events")
    grace = make_member("grace@example.com", organization=acme, role=ADMIN)
    alan = make_member("alan@example.com", organization=acme, role=ADMIN)
    return acme, grace, alan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(two_admins):
    acme, grace, alan = two_admins
    grace_m, alan_m = (Membership.objects.get(user=u) for u in (grace, alan))

    outcomes = race(
        lambda: membership_role_change(actor=grace, membership=alan_m, role=MEMBER),
        lambda: membership_role_change(actor=alan, membership=grace_m, role=MEMBER),
    )

    # The later one is refused: as the last admin's demotion if both got past the
    # permission check before the first one committed, or because its actor is an admin no
    # more if it started after (on a loaded machine one thread can finish before the other
    # begins). Either way one admin is left.
    assert outcomes in (["last_admin", "ok"], ["PermissionDenied", "ok"])
    assert Membership.objects.filter(organization=acme, role=ADMIN).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_leaving_at_once_leave_one_admin(two_admins):
    acme, grace, alan = two_admins
    grace_m, alan_m = (Membership.objects.get(user=u) for u in (grace, alan))

    outcomes = race(
        lambda: membership_remove(actor=grace, membership=grace_m),
        lambda: membership_remove(actor=alan, membership=alan_m),
    )

    assert outcomes == ["last_admin", "ok"]
    assert Membership.objects.filter(organization=acme, role=ADMIN).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_resetting_one_phone_at_once_reset_it_once(two_admins, make_member):
    acme, grace, alan = two_admins
    ada = make_member("ada@example.com", organization=acme)
    SmsDevice.objects.create(user=ada, number="+41791234567", confirmed=True)

    outcomes = race(
        lambda: member_phone_reset(actor=grace, member=ada, organization=acme),
        lambda: member_phone_reset(actor=alan, member=ada, organization=acme),
    )

    assert outcomes == ["no_phone", "ok"]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PHONE_REMOVED).count() == 1
