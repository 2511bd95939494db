"""One spelling of an email address for storing and looking up (accounts.models.normalize_email)."""

from importlib import import_module

import pytest
from django.apps import apps

from accounts.models import Invitation, User, normalize_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Ada@Example.COM ", "ada@example.com"),
        ("Ada@Bücher.Example", "ada@xn--bcher-kva.example"),
        ("ada@BÜCHER.example.", "ada@xn--bcher-kva.example"),
        ("ada@xn--bcher-kva.example", "ada@xn--bcher-kva.example"),
        ("ada@bü..example", "ada@bü..example"),  # no domain: kept, and matches nothing
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_emails_are_stored_in_one_spelling(typed, stored):
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    ("invited", "typed"),
    [("ada@bücher.example", "ada@XN--BCHER-KVA.example"),
     ("ada@xn--bcher-kva.example", "Ada@BÜCHER.example")],
)
def test_an_account_signs_in_with_either_spelling_of_its_domain(
    make_member, sign_in, invited, typed
):
    make_member(email=invited)
    assert User.objects.get().email == "ada@xn--bcher-kva.example"
    # The password is right for the account: on to the phone step.
    assert sign_in(email=typed)["Location"] == "/signin/phone/"


def test_emails_stored_before_in_unicode_move_to_the_one_spelling(make_member, make_organization):
    migration = import_module("accounts.migrations.0006_email_domains_in_ascii")
    lone = make_member(email="ada@example.com")
    User.objects.filter(pk=lone.pk).update(email="ada@bücher.example")
    twin = make_member(email="grace@example.com")
    User.objects.filter(pk=twin.pk).update(email="grace@bücher.example")
    make_member(email="grace@xn--bcher-kva.example")
    invitation = Invitation.objects.create(
        email="hank@bücher.example", organization=make_organization("Globex"), token_hash="x" * 64,
        expires_at="2999-01-01T00:00:00Z",
    )

    migration.emails_to_ascii(apps, None)

    assert User.objects.get(pk=lone.pk).email == "ada@xn--bcher-kva.example"
    # The other spelling has an account of its own: support staff decide.
    assert User.objects.get(pk=twin.pk).email == "grace@bücher.example"
    assert Invitation.objects.get(pk=invitation.pk).email == "hank@xn--bcher-kva.example"
