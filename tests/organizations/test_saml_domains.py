"""Which organization's enterprise login applies to an email."""

import pytest

from organizations.models import EnterpriseLogin
from organizations.sso import email_domain, enterprise_login_mandatory, sso_organization_for_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def set_mode(acme):
    def set_mode(*, enabled, mandatory):
        EnterpriseLogin.objects.filter(organization=acme).update(
            enabled=enabled, mandatory=mandatory
        )

    return set_mode


def test_mandatory_organization_is_found(acme, set_mode):
    set_mode(enabled=True, mandatory=True)

    assert enterprise_login_mandatory("ada@acme.com") is True
    assert sso_organization_for_email("ada@acme.com") == acme


def test_optional_enterprise_login_is_not_mandatory(acme, set_mode):
    set_mode(enabled=True, mandatory=False)

    assert enterprise_login_mandatory("ada@acme.com") is False
    assert sso_organization_for_email("ada@acme.com") == acme


def test_disabled_enterprise_login_applies_to_nobody(acme, set_mode):
    # Left mandatory in the database but switched off: off wins.
    set_mode(enabled=False, mandatory=True)

    assert enterprise_login_mandatory("ada@acme.com") is False
    assert sso_organization_for_email("ada@acme.com") is None


def test_unclaimed_domain_has_no_organization(acme, set_mode):
    set_mode(enabled=True, mandatory=True)

    assert enterprise_login_mandatory("ada@example.org") is False
    assert sso_organization_for_email("ada@example.org") is None


@pytest.mark.parametrize("email", [
    "ADA@ACME.COM", "ada@Acme.Com", "ada@acme.com.", " ada@acme.com ", "odd@name@acme.com",
])
def test_domain_ignores_case_and_a_trailing_dot(acme, set_mode, email):
    set_mode(enabled=True, mandatory=True)

    assert enterprise_login_mandatory(email) is True


@pytest.mark.parametrize("email", [
    "ada@eu.acme.com", "ada@acme.com.evil.com", "ada@notacme.com", "acme.com", "", "ada@",
])
def test_only_the_exact_claimed_domain_counts(acme, set_mode, email):
    set_mode(enabled=True, mandatory=True)

    assert enterprise_login_mandatory(email) is False


def test_lookups_cost_one_query_and_a_plain_one_for_an_unclaimed_domain(
    acme, set_mode, django_assert_num_queries
):
    set_mode(enabled=True, mandatory=True)

    with django_assert_num_queries(1):
        assert enterprise_login_mandatory("ada@example.org") is False
    with django_assert_num_queries(2):
        assert enterprise_login_mandatory("ada@acme.com") is True
    with django_assert_num_queries(1):
        sso_organization_for_email("ada@acme.com")


@pytest.mark.parametrize(("email", "domain"), [
    ("Ada@ACME.com.", "acme.com"), ("a@b@Example.ORG", "example.org"), ("nobody", ""),
])
def test_email_domain(email, domain):
    assert email_domain(email) == domain
