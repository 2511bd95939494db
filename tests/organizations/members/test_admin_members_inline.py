"""Members and workspaces inline in the Organization admin: saved through the Members page's
services, so support staff meet the same rules and leave the same security events."""

import pytest

from accounts.models import SecurityEvent
from organizations.models import Membership, Workspace
from tests.helpers import page as text
from tests.helpers import signed_in

ADMIN, MEMBER = Membership.Role.ADMIN, Membership.Role.MEMBER
Kind = SecurityEvent.Kind


@pytest.fixture
def staff(make_user):
    return make_user("support@backstage.test", is_staff=True, is_superuser=True)


@pytest.fixture
def support(staff):
    return signed_in(staff)


@pytest.fixture
def grace(make_member, acme):
    return make_member("grace@example.com", organization=acme, role=ADMIN)


@pytest.fixture
def ada(make_member, acme):
    return make_member("ada@example.com", organization=acme)


def change_url(organization) -> str:
    return f"/admin/organizations/organization/{organization.pk}/change/"


def post(support, organization, rows=(), *, new_rows=(), workspaces=()):
    """Post the organization page with its members as `rows` (membership, role, delete)."""
    data = {
        "name": organization.name, "slug": organization.slug,
        "domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0",
        "enterprise_login-TOTAL_FORMS": "0", "enterprise_login-INITIAL_FORMS": "0",
    }
    memberships = list(Membership.objects.filter(organization=organization).order_by(
        "user__email"))
    changes = {membership.pk: (role, delete) for membership, role, delete in rows}
    for n, membership in enumerate(memberships):
        role, delete = changes.get(membership.pk, (membership.role, False))
        data |= {f"memberships-{n}-id": membership.pk,
                 f"memberships-{n}-organization": organization.pk,
                 f"memberships-{n}-user": membership.user_id,
                 f"memberships-{n}-role": role}
        if delete:
            data[f"memberships-{n}-DELETE"] = "on"
    for m, (user, role) in enumerate(new_rows, start=len(memberships)):
        data |= {f"memberships-{m}-organization": organization.pk,
                 f"memberships-{m}-user": user.pk, f"memberships-{m}-role": role}
    data |= {"memberships-TOTAL_FORMS": len(memberships) + len(new_rows),
             "memberships-INITIAL_FORMS": len(memberships)}
    for w, (name, slug) in enumerate(workspaces):
        data |= {f"workspaces-{w}-name": name, f"workspaces-{w}-slug": slug}
    data |= {"workspaces-TOTAL_FORMS": len(workspaces), "workspaces-INITIAL_FORMS": "0"}
    return support.post(change_url(organization), data)


def test_the_organization_page_lists_members_and_workspaces(support, acme, grace, ada):
    Workspace.objects.create(organization=acme, name="Spring Summit", slug="spring-summit")
    page = text(support.get(change_url(acme)))
    assert "ada@example.com" in page and "grace@example.com" in page
    assert "Spring Summit" in page
    assert "MFA opt-in" in page


def test_support_changes_a_role_and_it_is_recorded(support, staff, acme, grace, ada):
    response = post(support, acme, [(Membership.objects.get(user=ada), ADMIN, False)])
    assert response.status_code == 302, text(response)
    assert Membership.objects.get(user=ada).role == ADMIN
    event = SecurityEvent.objects.get(kind=Kind.ROLE_CHANGED)
    assert (event.actor, event.subject, event.organization) == (staff, ada, acme)


def test_support_hands_the_admin_role_over_in_one_save(support, acme, grace, ada):
    response = post(support, acme, [(Membership.objects.get(user=ada), ADMIN, False),
                                    (Membership.objects.get(user=grace), MEMBER, False)])
    assert response.status_code == 302, text(response)
    assert Membership.objects.get(user=ada).role == ADMIN
    assert Membership.objects.get(user=grace).role == MEMBER


@pytest.mark.parametrize("delete", [False, True])
def test_the_last_admin_cannot_be_demoted_or_removed_in_admin_either(support, acme, grace, ada,
                                                                      delete):
    response = post(support, acme, [(Membership.objects.get(user=grace), MEMBER, delete)])
    assert response.status_code == 200
    assert "must keep at least one admin" in text(response)
    assert Membership.objects.get(user=grace).role == ADMIN
    assert not SecurityEvent.objects.exists()


def test_support_removes_and_adds_members_and_it_is_recorded(support, staff, acme, grace, ada,
                                                             make_user):
    alan = make_user("alan@example.com", full_name="Alan Turing")
    response = post(support, acme, [(Membership.objects.get(user=ada), MEMBER, True)],
                    new_rows=[(alan, MEMBER)])
    assert response.status_code == 302, text(response)
    assert not Membership.objects.filter(user=ada).exists()
    assert Membership.objects.get(user=alan).organization == acme
    removed = SecurityEvent.objects.get(kind=Kind.MEMBER_REMOVED)
    added = SecurityEvent.objects.get(kind=Kind.MEMBERSHIP_ADDED)
    assert (removed.actor, removed.subject) == (staff, ada)
    assert (added.actor, added.subject, added.organization) == (staff, alan, acme)


def test_a_bad_role_in_admin_is_a_form_error(support, acme, grace, ada):
    response = post(support, acme, [(Membership.objects.get(user=ada), "owner", False)])
    assert response.status_code == 200
    assert Membership.objects.get(user=ada).role == MEMBER


def test_support_adds_a_workspace(support, acme, grace):
    response = post(support, acme, workspaces=[("Partner Day", "partner-day")])
    assert response.status_code == 302, text(response)
    assert Workspace.objects.get(organization=acme).name == "Partner Day"
