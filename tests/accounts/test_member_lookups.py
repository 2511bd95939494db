"""The member read by id (each signed-in request) and by email (each password check), with
queries built once per connection (core.compiled): each answer is the ORM's."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from accounts.backends import EmailBackend
from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _fields(user):
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_the_member_by_email_is_the_orms_whatever_the_case(make_user):
    ada = make_user("ada@example.com", language="de")
    found = User.objects.get_by_natural_key("  Ada@Example.COM ")
    assert _fields(found) == _fields(User.objects.get(pk=ada.pk))
    assert not found._state.adding and found._state.db == "default"


def test_an_unknown_email_is_does_not_exist_as_from_get(make_user):
    make_user("ada@example.com")
    with pytest.raises(User.DoesNotExist) as ours:
        User.objects.get_by_natural_key("bob@example.com")
    with pytest.raises(User.DoesNotExist) as orms:
        User.objects.get(email="bob@example.com")
    assert str(ours.value) == str(orms.value)


def test_an_inactive_member_is_found_by_email_and_refused_by_the_password_step(make_user):
    ada = make_user("ada@example.com", is_active=False)
    assert User.objects.get_by_natural_key("ada@example.com").pk == ada.pk
    request = RequestFactory().post("/signin/")
    assert authenticate(request, email="ADA@example.com", password=PASSWORD) is None


def test_the_signed_in_member_is_read_by_id_and_an_inactive_one_is_nobody(make_user):
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com", is_active=False)
    backend = EmailBackend()
    assert _fields(backend.get_user(ada.pk)) == _fields(User.objects.get(pk=ada.pk))
    assert backend.get_user(bob.pk) is None
    assert backend.get_user(bob.pk + 1000) is None
    # Ids the ORM converts first, as before.
    assert backend.get_user(str(ada.pk)).pk == ada.pk
    assert backend.get_user(None) is None


def test_a_member_read_by_id_saves_only_what_changed(make_user):
    ada = make_user("ada@example.com")
    member = EmailBackend().get_user(ada.pk)
    member.full_name = "Ada King"
    member.save(update_fields=["full_name"])
    assert User.objects.get(pk=ada.pk).full_name == "Ada King"
