"""The operators' management commands: create_organization, invite, seed_demo."""

import re
from io import StringIO
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import Invitation
from organizations.models import EmailDomain, Membership, Organization, Workspace

User = get_user_model()

LINK_PATTERN = re.compile(r"http://testserver/invitation/[A-Za-z0-9_-]+/")


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


# create_organization ------------------------------------------------------------------

@pytest.mark.django_db
def test_create_organization_with_slug_and_domains():
    output = run("create_organization", "Acme Events", "--slug", "acme",
                 "--domain", "acme.com", "--domain", "Events.ACME.com.")

    organization = Organization.objects.get(slug="acme")
    assert organization.name == "Acme Events"
    assert set(organization.domains.values_list("domain", flat=True)) == {
        "acme.com", "events.acme.com",
    }
    assert "Created organization Acme Events (slug: acme)" in output


@pytest.mark.django_db
def test_create_organization_makes_the_slug_from_the_name():
    run("create_organization", "Zoë's Big Events")

    assert Organization.objects.get().slug == "zoes-big-events"


@pytest.mark.django_db
def test_create_organization_refuses_a_taken_slug_or_claimed_domain(make_organization):
    acme = make_organization("Acme Events", slug="acme")
    EmailDomain.objects.create(organization=acme, domain="acme.com")

    with pytest.raises(CommandError, match="slug “acme” already exists"):
        run("create_organization", "Acme Two", "--slug", "acme")
    with pytest.raises(CommandError, match=r"acme\.com is already claimed by Acme Events"):
        run("create_organization", "Acme Two", "--domain", "ACME.com")
    assert Organization.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("domain", ["not a domain", "acme", "-acme.com", "a@b.com", "bü..de"])
def test_create_organization_refuses_a_bad_domain(domain):
    with pytest.raises(CommandError, match="not a valid email domain"):
        run("create_organization", "Acme Events", f"--domain={domain}")
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_create_organization_claims_an_international_domain_in_its_xn_form_as_admin_does():
    output = run("create_organization", "Bücher Events", "--domain", "Bücher.example")

    assert "claiming xn--bcher-kva.example." in output
    claimed = Organization.objects.get().domains.values_list("domain", flat=True)
    assert list(claimed) == ["xn--bcher-kva.example"]


@pytest.mark.django_db
def test_create_organization_refuses_a_bad_slug():
    with pytest.raises(CommandError, match="Choose a slug"):
        run("create_organization", "Acme Events", "--slug", "acme events!")


# invite ---------------------------------------------------------------------------------

def test_invite_prints_a_link_that_opens_the_create_password_form(client, make_organization):
    make_organization("Acme Events", slug="acme")

    output = run("invite", "Grace@Example.com", "--organization", "acme")

    [link] = LINK_PATTERN.findall(output)
    assert link in mail.outbox[0].body
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("grace@example.com", Membership.Role.MEMBER)
    response = client.get(urlparse(link).path)
    assert response.status_code == 302
    assert response["Location"] == "/invitation/accept/"
    assert "Confirm account" in client.get("/invitation/accept/").content.decode()


def test_invite_with_admin_gives_the_admin_role(make_organization):
    make_organization("Acme Events", slug="acme")

    run("invite", "grace@example.com", "--organization", "acme", "--admin")

    assert Invitation.objects.get().role == Membership.Role.ADMIN


def test_invite_of_an_existing_account_prints_a_link_like_any_other(
    client, make_user, make_organization
):
    organization = make_organization("Acme Events", slug="acme")
    make_user(email="grace@example.com")

    output = run("invite", "grace@example.com", "--organization", "acme")

    assert "Invited grace@example.com to Acme Events as member." in output
    [link] = LINK_PATTERN.findall(output)
    assert link in mail.outbox[0].body
    assert Invitation.objects.get().accepted_at is None
    assert not Membership.objects.filter(organization=organization).exists()
    client.get(urlparse(link).path)
    assert "Join Acme Events" in client.get("/invitation/accept/").content.decode()


def test_invite_of_a_current_member_is_a_clear_error(make_member, make_organization):
    organization = make_organization("Acme Events", slug="acme")
    make_member("grace@example.com", organization=organization)

    with pytest.raises(CommandError) as refused:
        run("invite", "grace@example.com", "--organization", "acme")
    assert str(refused.value) == "grace@example.com is already a member of Acme Events."
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_invite_to_an_unknown_organization_is_a_clear_error():
    with pytest.raises(CommandError, match="No organization has the slug “nope”"):
        run("invite", "grace@example.com", "--organization", "nope")
    assert mail.outbox == []


def test_invite_of_a_bad_email_is_a_clear_error(make_organization):
    make_organization("Acme Events", slug="acme")

    with pytest.raises(CommandError) as refused:
        run("invite", "grace@@example.com", "--organization", "acme")
    assert str(refused.value) == "Enter a valid email address. (got “grace@@example.com”)"
    assert not Invitation.objects.exists()


# seed_demo ------------------------------------------------------------------------------

def demo_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Organization, Workspace, User, Membership, Invitation)
    }


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_once_however_often_it_runs(settings, client):
    settings.DEBUG = True

    first = run("seed_demo")
    counts = demo_counts()
    second = run("seed_demo")

    assert demo_counts() == counts
    assert counts == {"Organization": 1, "Workspace": 2, "User": 2, "Membership": 2,
                      "Invitation": 1}
    organization = Organization.objects.get(name="Demo Events")
    admin = User.objects.get(email="admin@demo.backstage.local")
    member = User.objects.get(email="member@demo.backstage.local")
    assert admin.memberships.get(organization=organization).role == Membership.Role.ADMIN
    assert member.memberships.get(organization=organization).role == Membership.Role.MEMBER
    assert admin.check_password(DEMO_PASSWORD) and member.check_password(DEMO_PASSWORD)
    assert not admin.is_staff
    for output in (first, second):
        assert DEMO_PASSWORD in output
        assert "admin@demo.backstage.local" in output
    assert "Demo data already present." in second
    # The link printed last is the one that works.
    [old_link] = LINK_PATTERN.findall(first)
    [new_link] = LINK_PATTERN.findall(second)
    assert client.get(urlparse(old_link).path).status_code == 404
    assert client.get(urlparse(new_link).path).status_code == 302


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="runs only with DEBUG=1"):
        run("seed_demo")

    assert not User.objects.exists()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_seed_demo_runs_without_debug_when_forced(settings):
    settings.DEBUG = False

    run("seed_demo", "--force")

    assert Organization.objects.filter(name="Demo Events").exists()
