"""The create-password form: the password and name rules, the privacy policy, CSRF, and how
errors are shown."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.accounts.invitations.helpers import (
    ACCEPT_URL,
    PASSWORD,
    VALID_FORM,
    User,
    assert_nothing_created,
    html_part,
    open_link,
    submit,
)
from tests.helpers import page

# The create-password form ------------------------------------------------------------

@pytest.fixture
def opened(client, invite):
    """A browser that has opened Grace's invitation link; returns the invitation."""
    invitation, path = invite()
    open_link(client, path)
    return invitation


def test_password_of_11_characters_is_rejected(client, opened):
    response = submit(client, password1="abcdefghijk", password2="abcdefghijk")

    assert response.status_code == 200
    assert "This password is too short. It must contain at least 12 characters." in (
        page(response)
    )
    assert_nothing_created(opened)


def test_password_of_12_characters_is_accepted(client, opened):
    response = submit(client, password1="abcdefghijkl", password2="abcdefghijkl")

    assert response.status_code == 302
    assert User.objects.get(email=opened.email).check_password("abcdefghijkl")


def test_common_password_is_rejected_with_the_reason(client, opened):
    response = submit(client, password1="qwerty123456", password2="qwerty123456")

    assert "This password is too common." in page(response)
    assert_nothing_created(opened)


def test_password_similar_to_the_email_is_rejected(client, invite):
    invitation, path = invite(email="gracehopper@example.com")
    open_link(client, path)

    response = submit(client, password1="gracehopper1", password2="gracehopper1")

    assert "The password is too similar to the email." in page(response)
    assert_nothing_created(invitation)


def test_password_similar_to_the_full_name_is_rejected(client, opened):
    response = submit(client, full_name="Bartholomew Quintessence",
                      password1="quintessence1", password2="quintessence1")

    assert "The password is too similar to the full name." in page(response)
    assert_nothing_created(opened)


def test_long_passphrase_with_spaces_and_no_digits_or_capitals_is_accepted(client, opened):
    passphrase = ("the quick brown fox jumps over the lazy dog " * 3)[:100]
    assert len(passphrase) == 100

    response = submit(client, password1=passphrase, password2=passphrase)

    assert response.status_code == 302
    user = User.objects.get(email=opened.email)
    assert user.check_password(passphrase)
    assert not user.check_password(passphrase[:72])


def test_password_longer_than_256_characters_is_rejected(client, opened):
    password = "x y " * 65

    response = submit(client, password1=password, password2=password)

    assert "Your password can have at most 256 characters." in page(response)
    assert_nothing_created(opened)


def test_passwords_that_do_not_match_are_rejected(client, opened):
    response = submit(client, password2=PASSWORD + "!")

    assert "The two passwords don't match." in page(response)
    assert_nothing_created(opened)


def test_privacy_policy_must_be_accepted(client, opened):
    form = {key: value for key, value in VALID_FORM.items() if key != "accept_privacy"}

    response = client.post(ACCEPT_URL, form)

    assert "Accept the privacy policy to create your account." in page(response)
    assert_nothing_created(opened)


@pytest.mark.parametrize(
    ("full_name", "message"),
    [
        ("", "Enter your full name."),
        ("   \t ", "Enter your full name."),
        ("G" * 10_000, "Your name can have at most 150 characters (it has 10000)."),
        ("Grace\nHopper", "Your name can't contain control characters or line breaks."),
        ("Grace\x07Hopper", "Your name can't contain control characters or line breaks."),
        ("Grace\x00Hopper", "Your name can't contain control characters."),
        ("Grace \u202eHopper", "Your name can't contain control characters or line breaks."),
    ],
    ids=["empty", "whitespace", "10 kB", "newline", "bell", "nul", "right-to-left override"],
)
def test_bad_full_name_is_rejected_with_a_message(client, opened, full_name, message):
    response = submit(client, full_name=full_name)

    assert response.status_code == 200
    content = page(response)
    assert message in content
    assert 'class="error-summary"' in content
    assert_nothing_created(opened)


def test_name_with_a_script_tag_is_stored_as_text_and_escaped_on_output(
    client, opened, django_capture_on_commit_callbacks
):
    name = "<script>alert(1)</script> Hopper"

    redisplayed = submit(client, full_name=name, password2="does not match at all")
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, full_name=name)

    raw = redisplayed.content.decode()  # as sent, before any entity is decoded
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hopper" in raw
    assert User.objects.get(email=opened.email).full_name == name
    confirmation = mail.outbox[-1]
    assert "<script>" not in html_part(confirmation)
    assert "&lt;script&gt;" in html_part(confirmation)


def test_unicode_full_name_and_password_are_accepted(client, opened):
    response = submit(client, full_name="Zoë Ørsted-Łukasiewicz 山田",
                      password1="ñandú pingüino café", password2="ñandú pingüino café")

    assert response.status_code == 302
    user = User.objects.get(email=opened.email)
    assert user.full_name == "Zoë Ørsted-Łukasiewicz 山田"
    assert user.check_password("ñandú pingüino café")


def test_form_without_csrf_token_is_refused(invite):
    invitation, path = invite()
    browser = Client(enforce_csrf_checks=True)
    open_link(browser, path)

    response = browser.post(ACCEPT_URL, VALID_FORM)

    assert response.status_code == 403
    assert_nothing_created(invitation)


def test_form_shows_errors_next_to_fields_with_a_summary(client, opened):
    response = submit(client, full_name="", password2="something else entirely")

    content = page(response)
    # A summary at the top of the form, then each error just before its field.
    assert content.index('class="error-summary"') < content.index('name="full_name"')
    assert content.index("Enter your full name.") < content.index('name="full_name"')
    assert '<label for="id_password2">Password again' in content


def test_privacy_policy_page_is_public_and_says_what_is_stored(client):
    response = client.get(reverse("accounts:privacy"))

    assert response.status_code == 200
    content = page(response)
    for item in ("email address", "full name", "mobile phone number", "Sign-in events"):
        assert item in content
