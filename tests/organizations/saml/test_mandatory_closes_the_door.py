"""Mandatory enterprise login closes the door it claims (issue 10, item 7): switching an
organization to mandatory ends the password sessions, half-finished sign-ins and remembered
browsers of everyone at its claimed domains; sessions signed in through enterprise login
stay."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import SecurityEvent, token_hash
from mfa.models import RememberedBrowser
from organizations.models import EmailDomain, EnterpriseLogin, Membership
from tests.conftest import PASSWORD
from tests.helpers import page, signed_in
from tests.organizations.saml.conftest import SsoTrip

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(make_user):
    staff = make_user(email="support@backstage.test", is_staff=True, is_superuser=True)
    return signed_in(staff, method="sms")


@pytest.fixture
def bob(make_member, acme):
    """A member of Acme whose email is at a domain that Acme does not claim."""
    return make_member(email="bob@example.com", organization=acme)


def remember_a_browser(user):
    now = timezone.now()
    RememberedBrowser.objects.create(
        user=user, token_hash=token_hash(f"browser of {user.email}"), user_agent="Firefox",
        created_at=now, expires_at=now + timedelta(days=14), last_used_at=now,
    )


def is_signed_in(browser) -> bool:
    return browser.get("/").status_code == 200


def sso_signed_in(organization, idp) -> Client:
    browser = Client()
    assert SsoTrip(browser, organization, idp).post()["Location"] == "/"
    return browser


def mandatory_in_admin(support, organization, *, idp):
    """Tick "mandatory" on the organization's change form in Django admin."""
    login = EnterpriseLogin.objects.get(organization=organization)
    domains = list(organization.domains.all())
    data = {
        "name": organization.name,
        "domains-TOTAL_FORMS": str(len(domains)), "domains-INITIAL_FORMS": str(len(domains)),
        "enterprise_login-TOTAL_FORMS": "1", "enterprise_login-INITIAL_FORMS": "1",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "workspaces-TOTAL_FORMS": "0", "workspaces-INITIAL_FORMS": "0",
        "enterprise_login-0-id": str(login.pk),
        "enterprise_login-0-organization": str(organization.pk),
        "enterprise_login-0-enabled": "on",
        "enterprise_login-0-mandatory": "on",
        "enterprise_login-0-idp_metadata_xml": idp.metadata_xml(),
    }
    for n, domain in enumerate(domains):
        data |= {f"domains-{n}-id": str(domain.pk), f"domains-{n}-organization":
                 str(organization.pk), f"domains-{n}-domain": domain.domain}
    response = support.post(f"/admin/organizations/organization/{organization.pk}/change/",
                            data)
    assert response.status_code == 302, response.text
    login.refresh_from_db()
    assert login.mandatory


def test_switching_to_mandatory_in_admin_ends_password_sessions_but_not_enterprise_ones(
    support, acme, acme_idp, ada, bob
):
    password_browser = signed_in(ada, method="sms")
    remembered_browser = signed_in(ada, method="remembered")
    remember_a_browser(ada)
    enterprise_browser = sso_signed_in(acme, acme_idp)
    other_domain = signed_in(bob, method="sms")
    remember_a_browser(bob)

    mandatory_in_admin(support, acme, idp=acme_idp)

    assert not is_signed_in(password_browser)
    assert not is_signed_in(remembered_browser)
    assert not RememberedBrowser.objects.filter(user=ada).exists()
    assert is_signed_in(enterprise_browser)
    # Acme does not claim bob's domain: his password is still his way in.
    assert is_signed_in(other_domain)
    assert RememberedBrowser.objects.filter(user=bob).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SESSIONS_ENDED)
    assert (event.subject, event.organization) == (ada, acme)
    assert event.detail == {"reason": "enterprise_login_mandatory", "browsers_forgotten": 1,
                            "enterprise_login_sessions_kept": True}


def test_the_member_signed_out_is_told_to_use_enterprise_login(acme, ada):
    browser = signed_in(ada, method="sms")

    login = EnterpriseLogin.objects.get(organization=acme)
    login.mandatory = True
    login.save()

    response = browser.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/signin/")
    assert "Your organization now signs you in with Enterprise login." in page(response)


def test_a_half_finished_password_sign_in_ends_too(acme, ada, sign_in, client):
    assert sign_in("ada@acme.com", PASSWORD)["Location"] == "/signin/phone/"

    login = EnterpriseLogin.objects.get(organization=acme)
    login.mandatory = True
    login.save()

    assert client.get("/signin/phone/")["Location"] == "/signin/"


def test_everyone_at_a_claimed_domain_is_signed_out_not_only_members(acme, make_user):
    outsider = make_user("lin@acme.com", full_name="Lin")
    browser = signed_in(outsider)

    login = EnterpriseLogin.objects.get(organization=acme)
    login.mandatory = True
    login.save()

    assert not is_signed_in(browser)


def test_a_domain_claimed_while_mandatory_closes_its_door_too(acme, make_member):
    login = EnterpriseLogin.objects.get(organization=acme)
    login.mandatory = True
    login.save()
    lin = make_member("lin@acme.org", organization=acme, role=Membership.Role.MEMBER)
    browser = signed_in(lin)
    assert is_signed_in(browser)

    EmailDomain.objects.create(organization=acme, domain="acme.org")

    assert not is_signed_in(browser)


def test_saving_an_organization_already_mandatory_ends_nothing_again(acme, ada):
    login = EnterpriseLogin.objects.get(organization=acme)
    login.mandatory = True
    login.save()
    ended = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSIONS_ENDED)
    before = ended.count()

    login.email_attribute = "mail"
    login.save()

    assert ended.count() == before


def test_optional_enterprise_login_ends_nothing(acme, ada):
    browser = signed_in(ada, method="sms")

    login = EnterpriseLogin.objects.get(organization=acme)
    login.email_attribute = "mail"
    login.save()

    assert is_signed_in(browser)
