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


# International domains -----------------------------------------------------------------------

@pytest.mark.parametrize("email", [
    "ada@bücher.example",
    "ada@BÜCHER.Example",
    "ada@bücher.example.",
    "ada@bücher。example",  # an ideographic full stop, as some keyboards type it
    "ada@xn--bcher-kva.example",
    "Ada@XN--BCHER-KVA.EXAMPLE.",
])
def test_both_spellings_of_a_claimed_international_domain_match(
    acme, set_mode, buecher_example, email
):
    set_mode(enabled=True, mandatory=True)

    assert email_domain(email) == "xn--bcher-kva.example"
    assert enterprise_login_mandatory(email) is True
    assert sso_organization_for_email(email) == acme


@pytest.mark.parametrize("email", [
    "ada@bucher.example",
    "ada@bücher.example.evil.com",
    "ada@\u0430cme.com",  # a Cyrillic a: a look-alike, another domain
])
def test_look_alike_international_domains_do_not_match(acme, set_mode, buecher_example, email):
    set_mode(enabled=True, mandatory=True)

    assert enterprise_login_mandatory(email) is False
    assert sso_organization_for_email(email) is None


def test_international_names_are_read_as_idna_2008_does():
    """Not Python's IDNA 2003 codec, which turns straße.de into strasse.de, another domain."""
    assert email_domain("ada@Straße.de") == "xn--strae-oqa.de"


@pytest.mark.parametrize("email", [
    "ada@bü..example",
    "ada@\ufffd.example",
    "ada@" + "ü" * 64 + ".example",
    "ada@bü_cher.example",
    "ada@١٢٣.example",  # digits of a right-to-left script alone: not a valid name
    "ada@💩.example",
    "ada@bü cher.example",
    "ada@bü\x00.example",
])
def test_an_undecodable_domain_is_no_domain_and_matches_nothing(
    acme, set_mode, buecher_example, email
):
    set_mode(enabled=True, mandatory=True)

    assert email_domain(email) == ""
    assert enterprise_login_mandatory(email) is False
    assert sso_organization_for_email(email) is None


def test_domains_claimed_in_unicode_before_are_stored_in_their_xn_form(acme):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("organizations.migrations.0003_email_domains_in_ascii")
    unicode_form = acme.domains.create(domain="xn--bcher-kva.example")
    # As stored before EmailDomain.save spelled it in xn--.
    acme.domains.filter(pk=unicode_form.pk).update(domain="bücher.example")
    garbage = acme.domains.create(domain="a\u200d..example")
    migration.domains_to_ascii(apps, None)
    unicode_form.refresh_from_db()
    garbage.refresh_from_db()
    assert unicode_form.domain == "xn--bcher-kva.example"
    assert garbage.domain == "a\u200d..example"
    assert enterprise_login_mandatory("ada@bücher.example") is False  # optional here
    assert sso_organization_for_email("ada@bücher.example") == acme


@pytest.mark.parametrize(("typed", "stored"), [
    (" ACME.example. ", "acme.example"), ("Bücher.Example", "xn--bcher-kva.example"),
    ("a\u200d..example", "a\u200d..example"),  # no domain: kept as typed for staff to fix
])
def test_a_claimed_domain_is_saved_in_the_spelling_emails_are_looked_up_in(acme, typed, stored):
    assert acme.domains.create(domain=typed).domain == stored
