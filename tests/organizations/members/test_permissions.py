"""Who may reset a phone and manage members (organizations.permissions), as plain rules."""

import pytest
from django.contrib.auth.models import AnonymousUser

from organizations.models import Membership
from organizations.permissions import (
    Refusal,
    members_manage_allowed,
    organization_admin,
    phone_reset_allowed,
    phone_reset_refusal,
)

ADMIN = Membership.Role.ADMIN


@pytest.fixture
def ada(make_member, acme):
    return make_member("ada@example.com", organization=acme)


@pytest.fixture
def grace(make_member, acme):
    """An admin of Acme."""
    return make_member("grace@example.com", organization=acme, role=ADMIN)


def test_an_admin_may_reset_the_phone_of_a_member_of_their_organization(grace, ada):
    assert phone_reset_refusal(actor=grace, member=ada) is None
    assert phone_reset_allowed(actor=grace, member=ada)


def test_an_admin_may_reset_the_phone_of_another_admin_of_their_organization(
    grace, make_member, acme
):
    other_admin = make_member("alan@example.com", organization=acme, role=ADMIN)
    assert phone_reset_allowed(actor=grace, member=other_admin)


def test_support_staff_may_reset_anyones_phone(make_user, ada):
    staff = make_user("support@backstage.test", is_staff=True)
    assert phone_reset_allowed(actor=staff, member=ada)


def test_an_admin_may_not_reset_their_own_phone(grace):
    assert phone_reset_refusal(actor=grace, member=grace) == Refusal.OWN_PHONE


def test_support_staff_may_not_reset_their_own_phone(make_user):
    staff = make_user("support@backstage.test", is_staff=True)
    assert phone_reset_refusal(actor=staff, member=staff) == Refusal.OWN_PHONE


def test_a_member_may_not_reset_anyones_phone_not_even_their_own(ada, make_member, acme):
    colleague = make_member("alan@example.com", organization=acme)
    assert phone_reset_refusal(actor=ada, member=colleague) == Refusal.FORBIDDEN
    assert phone_reset_refusal(actor=ada, member=ada) == Refusal.FORBIDDEN


def test_an_admin_of_another_organization_may_not_reset_the_phone(ada, make_member, globex):
    globex_admin = make_member("hank@globex.test", organization=globex, role=ADMIN)
    assert phone_reset_refusal(actor=globex_admin, member=ada) == Refusal.FORBIDDEN


def test_being_a_plain_member_where_the_person_is_does_not_help(ada, make_member, acme, globex):
    # Admin of Globex, member of Acme: Ada is only in Acme, where they are not an admin.
    hank = make_member("hank@globex.test", organization=globex, role=ADMIN)
    Membership.objects.create(user=hank, organization=acme)
    assert not phone_reset_allowed(actor=hank, member=ada)


def test_an_admin_of_any_shared_organization_may_reset(ada, make_member, globex):
    hank = make_member("hank@globex.test", organization=globex, role=ADMIN)
    Membership.objects.create(user=ada, organization=globex)
    assert phone_reset_allowed(actor=hank, member=ada)


def test_an_inactive_admin_or_anonymous_may_not_reset(grace, ada):
    assert phone_reset_refusal(actor=AnonymousUser(), member=ada) == Refusal.FORBIDDEN
    assert phone_reset_refusal(actor=None, member=ada) == Refusal.FORBIDDEN
    grace.is_active = False
    assert phone_reset_refusal(actor=grace, member=ada) == Refusal.FORBIDDEN


def test_only_admins_and_support_staff_manage_members(grace, ada, acme, make_member, make_user,
                                                      globex):
    globex_admin = make_member("hank@globex.test", organization=globex, role=ADMIN)
    staff = make_user("support@backstage.test", is_staff=True)
    assert members_manage_allowed(grace, acme)
    assert members_manage_allowed(staff, acme)
    assert not members_manage_allowed(ada, acme)
    assert not members_manage_allowed(globex_admin, acme)
    assert not members_manage_allowed(AnonymousUser(), acme)
    assert organization_admin(grace, acme) and not organization_admin(ada, acme)
