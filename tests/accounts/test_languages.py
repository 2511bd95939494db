"""The member's language (issue 13): the browser's before sign-in, the stored one after,
the footer's switch without JavaScript, and emails and text messages in the recipient's."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from accounts.invitations import invitation_create
from mfa import sms
from mfa.delivery import Failure, failure_message
from organizations.models import Membership
from tests.conftest import PASSWORD
from tests.helpers import page, signed_in

WORDS = {
    # page: (English, French, German), as the seeds and the catalogs word them
    "signin": ("Log in to Backstage", "Se connecter à Backstage", "Bei Backstage anmelden"),
    "phone": ("Send a code", "Envoyer un code", "Code senden"),
    "code": ("Enter your code", "Saisissez votre code", "Geben Sie Ihren Code ein"),
    "password": ("Confirm account", "Confirmer le compte", "Konto bestätigen"),
    "members": ("Invite member", "Inviter un membre", "Mitglied einladen"),
}
LANGUAGES = {"en": 0, "fr": 1, "de": 2}


def browser(language: str) -> Client:
    return Client(headers={"accept-language": language})


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_sign_in_phone_and_code_pages_follow_accept_language(language, make_member):
    make_member()
    client = browser(language)
    words = {name: texts[LANGUAGES[language]] for name, texts in WORDS.items()}

    signin = client.get("/signin/")
    assert words["signin"] in page(signin)
    assert html_lang(signin) == language
    assert signin["Content-Language"] == language

    to_phone = client.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    phone = client.get(to_phone["Location"])
    assert words["phone"] in page(phone)
    assert html_lang(phone) == language

    to_code = client.post(to_phone["Location"], {"country": "CH", "number": "079 123 45 67"})
    code = client.get(to_code["Location"])
    assert words["code"] in page(code)
    assert html_lang(code) == language


def test_the_country_list_is_in_the_page_language(make_member):
    make_member()
    client = browser("de")
    to_phone = client.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    assert '<option value="CH">Schweiz (+41)</option>' in page(client.get(to_phone["Location"]))


def test_the_country_list_changes_with_the_language_from_one_page_to_the_next(make_member):
    """The country names are kept once worked out (mfa.forms): per language."""
    make_member()
    client = browser("en")
    to_phone = client.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    for language, switzerland in [
        ("en", "Switzerland"), ("de", "Schweiz"), ("fr", "Suisse"), ("en", "Switzerland")
    ]:
        client.post("/i18n/setlang/", {"language": language})
        html = page(client.get(to_phone["Location"]))
        assert f'<option value="CH">{switzerland} (+41)</option>' in html


@pytest.mark.parametrize("language", ["fr", "de"])
def test_the_sms_is_in_the_members_language_and_keeps_the_webotp_line(language, make_member):
    make_member(language=language)
    client = browser("en")
    to_phone = client.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    client.post(to_phone["Location"], {"country": "CH", "number": "079 123 45 67"})
    body = sms.outbox[-1].body
    code = re.search(r"(\d{6})", body).group(1)
    words = {"fr": f"Votre code Backstage est {code}.", "de": f"Ihr Backstage-Code lautet {code}."}
    assert body == f"{words[language]}\n\n@testserver #{code}"


def test_the_sms_follows_the_browser_when_no_language_is_stored(make_member):
    make_member()
    client = browser("fr")
    to_phone = client.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})
    client.post(to_phone["Location"], {"country": "CH", "number": "079 123 45 67"})
    assert sms.outbox[-1].body.startswith("Votre code Backstage est ")


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_invitation_email_create_password_page_and_confirmation_email(
    language, make_organization, django_capture_on_commit_callbacks
):
    organization = make_organization("Acme Events")
    invitation = invitation_create(
        email="grace@example.com", organization=organization, language=language
    )
    [email] = mail.outbox
    subjects = {
        "en": "You're invited to Acme Events on Backstage",
        "fr": "Vous êtes invité à rejoindre Acme Events sur Backstage",
        "de": "Einladung zu Acme Events auf Backstage",
    }
    assert email.subject == subjects[language]
    [(html, _mimetype)] = email.alternatives
    assert f'<html lang="{language}">' in html
    assert WORDS["signin"][LANGUAGES[language]] in html

    client = browser(language)
    client.get(f"/invitation/{invitation.token}/")
    accept = client.get("/invitation/accept/")
    assert WORDS["password"][LANGUAGES[language]] in page(accept)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/invitation/accept/", {
            "full_name": "Grace Hopper", "password1": PASSWORD + " staple",
            "password2": PASSWORD + " staple", "accept_privacy": "on",
        })
    confirmation = mail.outbox[-1]
    created = {
        "en": "Your Backstage account has been created",
        "fr": "Votre compte Backstage a été créé",
        "de": "Ihr Backstage-Konto wurde erstellt",
    }
    assert confirmation.subject == created[language]
    assert created[language] in confirmation.body


def test_the_invite_form_offers_the_admins_own_language_and_the_email_uses_the_choice(
    make_member
):
    admin = make_member("ada@example.com", role=Membership.Role.ADMIN, language="de")
    client = signed_in(admin)
    members = client.get("/organizations/acme-events/members/")
    assert WORDS["members"][2] in page(members)
    assert '<option value="de" selected>' in members.content.decode()

    client.post("/organizations/acme-events/members/invite/",
                {"email": "grace@example.com", "role": "member", "language": "fr"})
    assert mail.outbox[-1].subject == "Vous êtes invité à rejoindre Acme Events sur Backstage"


@pytest.mark.parametrize("language", ["fr", "de"])
def test_members_page_follows_accept_language(language, make_member):
    admin = make_member("ada@example.com", role=Membership.Role.ADMIN)
    client = signed_in(admin)
    response = client.get(
        "/organizations/acme-events/members/", headers={"accept-language": language}
    )
    assert WORDS["members"][LANGUAGES[language]] in page(response)
    assert html_lang(response) == language


def test_a_members_stored_language_wins_over_the_browsers(make_member):
    member = make_member(language="de")
    client = signed_in(member)
    response = client.get("/", headers={"accept-language": "fr"})
    assert html_lang(response) == "de"
    assert "Ihre Arbeitsbereiche" in page(response)


def test_language_in_personal_settings_is_stored_and_used(make_member):
    member = make_member()
    client = signed_in(member)
    response = client.post("/settings/language/", {"language": "fr"}, follow=True)
    member.refresh_from_db()
    assert member.language == "fr"
    assert "Votre langue a été enregistrée." in page(response)
    assert html_lang(response) == "fr"

    client.post("/settings/language/", {"language": ""})
    member.refresh_from_db()
    assert member.language == ""
    assert html_lang(client.get("/", headers={"accept-language": "de"})) == "de"


def test_english_stays_the_default_without_accept_language(db):
    response = Client().get("/signin/")
    assert html_lang(response) == "en"
    assert "Log in to Backstage" in page(response)


def test_the_footer_switch_works_without_javascript(db):
    client = Client()
    signin = client.get("/signin/")
    assert '<form class="language-switch" method="post" action="/i18n/setlang/">' in page(signin)
    # A plain form post, as a browser without JavaScript sends it; back by the Referer.
    response = client.post(
        "/i18n/setlang/", {"language": "de"}, headers={"referer": "http://testserver/signin/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/signin/"
    again = client.get("/signin/", headers={"accept-language": "fr"})
    assert html_lang(again) == "de"
    assert "Bei Backstage anmelden" in page(again)


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ["Saisissez votre adresse e-mail.", "Saisissez votre mot de passe."]),
    ("de", ["Geben Sie Ihre E-Mail-Adresse ein.", "Geben Sie Ihr Passwort ein."]),
])
def test_a_forms_errors_are_in_the_page_language(language, words, db):
    response = browser(language).post("/signin/", {"email": "", "password": ""})
    for sentence in words:
        assert sentence in page(response)


@pytest.mark.parametrize("kind", list(Failure))
def test_every_text_message_failure_is_worded_in_french_and_german(kind):
    english = str(failure_message(kind))
    for language in ("fr", "de"):
        with translation.override(language):
            assert str(failure_message(kind)) not in ("", english)
