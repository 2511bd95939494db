import pytest

from mfa import sms


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()


@pytest.fixture
def make_user(db, django_user_model):
    def make(email="ada@example.com", password="correct horse battery", **fields):
        fields.setdefault("full_name", "Ada Lovelace")
        return django_user_model.objects.create_user(email=email, password=password, **fields)

    return make


@pytest.fixture
def make_organization(db):
    from organizations.models import Organization

    def make(name="Acme Events", slug=None, **fields):
        return Organization.objects.create(name=name, slug=slug or name.lower().replace(" ", "-"),
                                           **fields)

    return make


@pytest.fixture
def make_member(make_user, make_organization):
    """A user who belongs to an organization (created when not given) with a role."""
    from organizations.models import Membership

    def make(email="ada@example.com", organization=None, role=Membership.Role.MEMBER, **fields):
        user = make_user(email=email, **fields)
        organization = organization or make_organization()
        Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make
