"""The roll-out of MFA (SPEC journey 9): an organization's opt-in, then the global date."""

import datetime

import pytest

from mfa.policy import mfa_required
from organizations.models import Membership
from tests.helpers import page as text
from tests.helpers import signed_in

ENFORCEMENT = datetime.date(2024, 12, 3)
EVE = datetime.datetime(2024, 12, 2, 23, 59, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _before_the_enforcement_date(settings, clock):
    settings.MFA_ENFORCEMENT_DATE = ENFORCEMENT
    clock.now = EVE


@pytest.fixture
def ada(enrolled_member, acme):
    return enrolled_member("ada@example.com", organization=acme)


def test_before_the_date_a_member_of_an_organization_that_has_not_opted_in_needs_no_code(
    ada, sign_in
):
    assert not mfa_required(ada)
    assert sign_in()["Location"] == "/"


def test_before_the_date_an_organization_that_opted_in_needs_the_code(ada, acme, sign_in):
    acme.mfa_opt_in = True
    acme.save()
    assert mfa_required(ada)
    assert sign_in()["Location"] == "/signin/code/"


def test_one_opted_in_organization_is_enough(ada, make_organization, sign_in):
    opted_in = make_organization("Globex", mfa_opt_in=True)
    Membership.objects.create(user=ada, organization=opted_in)
    assert sign_in()["Location"] == "/signin/code/"


def test_before_the_date_a_member_without_a_phone_in_an_opted_in_org_enrolls(
    make_member, make_organization, sign_in
):
    opted_in = make_organization("Globex", mfa_opt_in=True)
    make_member("alan@example.com", organization=opted_in)
    assert sign_in(email="alan@example.com")["Location"] == "/signin/phone/"


def test_from_the_first_minute_of_the_date_every_member_needs_the_code(ada, sign_in, clock):
    assert not mfa_required(ada)
    clock.advance(minutes=1)  # 3 December 2024, 00:00 UTC
    assert mfa_required(ada)
    assert sign_in()["Location"] == "/signin/code/"


def test_the_date_is_a_setting(ada, settings):
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2024, 12, 1)
    assert mfa_required(ada)


def test_support_staff_always_need_the_code(make_user):
    staff = make_user("support@backstage.test", is_staff=True)
    assert mfa_required(staff)


def test_support_staff_set_the_opt_in_in_django_admin(make_user, acme):
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    page = text(signed_in(staff).get(f"/admin/organizations/organization/{acme.pk}/change/"))
    assert 'name="mfa_opt_in"' in page
    assert "MFA opt-in" in page
