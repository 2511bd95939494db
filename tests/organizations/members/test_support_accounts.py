"""Backstage Support accounts in an organization (issue 10, item 2): an organization admin
may neither remove the phone of a staff or superuser account nor remove it from the
organization; support staff may. The Members page, the services and the rule agree."""

import pytest

from mfa.models import SmsDevice
from organizations.members import MemberError, member_phone_reset, membership_remove
from organizations.models import Membership
from organizations.permissions import Refusal, phone_reset_refusal, support_account_refusal
from tests.helpers import page as text
from tests.helpers import signed_in

ADMIN = Membership.Role.ADMIN
URL = "/organizations/acme-events/members/"
REFUSED = "has a Backstage Support account: only Backstage Support can remove its phone"


@pytest.fixture
def grace(enrolled_member, acme):
    """An admin of Acme."""
    return enrolled_member("grace@example.com", organization=acme, role=ADMIN,
                           full_name="Grace Hopper", number="+41791110000")


@pytest.fixture(params=[{"is_staff": True}, {"is_superuser": True}], ids=["staff", "superuser"])
def support(request, enrolled_member, acme):
    """A support staff (or superuser) account that is also a member of Acme."""
    return enrolled_member("sam@backstage.test", organization=acme, full_name="Sam Support",
                           number="+41793330000", **request.param)


@pytest.fixture
def support_staff(make_user):
    return make_user("root@backstage.test", is_staff=True)


def phone_kept(user) -> bool:
    return SmsDevice.objects.filter(user=user, confirmed=True).exists()


def test_the_rule_refuses_organization_admins_and_lets_support_staff(grace, support,
                                                                    support_staff):
    assert support_account_refusal(actor=grace, member=support) == Refusal.SUPPORT_ACCOUNT
    assert phone_reset_refusal(actor=grace, member=support) == Refusal.SUPPORT_ACCOUNT
    assert support_account_refusal(actor=support_staff, member=support) is None
    assert phone_reset_refusal(actor=support_staff, member=support) is None


def test_members_page_offers_no_removal_of_a_support_account(grace, support):
    page = text(signed_in(grace).get(URL))
    assert f"{URL}{support.pk}/phone/remove/" not in page
    assert f"{URL}{support.pk}/remove/" not in page
    assert "Backstage Support account: only Support can change it" in page


def test_organization_admin_cannot_remove_the_phone_of_a_support_account(grace, support):
    browser = signed_in(grace)
    response = browser.get(f"{URL}{support.pk}/phone/remove/", follow=True)
    assert REFUSED in text(response)
    response = browser.post(f"{URL}{support.pk}/phone/remove/", follow=True)
    assert REFUSED in text(response)
    assert phone_kept(support)


def test_organization_admin_cannot_remove_a_support_account_from_the_organization(
    grace, support
):
    browser = signed_in(grace)
    response = browser.get(f"{URL}{support.pk}/remove/", follow=True)
    assert REFUSED in text(response)
    response = browser.post(f"{URL}{support.pk}/remove/", follow=True)
    assert REFUSED in text(response)
    assert Membership.objects.filter(user=support).exists()


def test_the_services_refuse_an_organization_admin_on_a_support_account(grace, support):
    with pytest.raises(MemberError) as raised:
        member_phone_reset(actor=grace, member=support)
    assert raised.value.code == "support_account"
    membership = Membership.objects.get(user=support)
    with pytest.raises(MemberError) as raised:
        membership_remove(actor=grace, membership=membership)
    assert raised.value.code == "support_account"
    assert phone_kept(support)
    assert Membership.objects.filter(user=support).exists()


def test_support_staff_may_remove_the_phone_and_the_membership(support, support_staff):
    member_phone_reset(actor=support_staff, member=support)
    assert not phone_kept(support)
    membership_remove(actor=support_staff, membership=Membership.objects.get(user=support))
    assert not Membership.objects.filter(user=support).exists()


def test_an_ordinary_member_is_still_the_admins_to_change(grace, enrolled_member, acme):
    ada = enrolled_member("ada@example.com", organization=acme)
    member_phone_reset(actor=grace, member=ada)
    assert not phone_kept(ada)
