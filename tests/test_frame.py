"""The page frame's words and addresses (backstage.frame), made once per language and kept:
each page still shows them in its own language, under its own URL prefix, and after a
setting that they come from changes."""

from django.test import Client, override_settings
from django.urls import set_script_prefix

from backstage.frame import page_frame
from tests.helpers import page_html

SWITCH = '<select id="language-switch" name="language">'


def options(html: str) -> str:
    return " ".join(html.split(SWITCH)[1].split("</select>")[0].split())


def test_each_language_has_its_own_words_and_selected_option(db):
    english = page_html(Client().get("/signin/"))
    french = page_html(Client(headers={"accept-language": "fr"}).get("/signin/"))
    again = page_html(Client().get("/signin/"))
    assert '<html lang="en">' in english
    assert '<a class="skip-link" href="#main">Skip to content</a>' in english
    assert '<option value="en" lang="en" selected>English</option>' in options(english)
    assert '<html lang="fr">' in french
    assert '<a class="skip-link" href="#main">Aller au contenu</a>' in french
    assert '<option value="fr" lang="fr" selected>Français</option>' in options(french)
    # Each name through gettext, as get_available_languages gives it: Django's catalog has
    # the French for "English".
    assert '<option value="en" lang="en">Anglais</option>' in options(french)
    assert again == english.replace(*csrf_tokens(english, again))


def csrf_tokens(first: str, second: str) -> tuple[str, str]:
    def token(html):
        return html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    return token(first), token(second)


def test_the_addresses_carry_the_url_prefix():
    """The prefix that WSGIHandler sets from each request's SCRIPT_NAME (the test client
    leaves it at "/")."""
    plain = page_frame()
    set_script_prefix("/backstage/")
    try:
        prefixed = page_frame()
    finally:
        set_script_prefix("/")
    assert (plain.signin_url, plain.set_language_url) == ("/signin/", "/i18n/setlang/")
    assert prefixed.signin_url == "/backstage/signin/"
    assert prefixed.set_language_url == "/backstage/i18n/setlang/"
    assert prefixed.privacy_url == "/backstage/privacy/"


def test_a_changed_setting_is_seen(db):
    page_html(Client().get("/signin/"))  # the frame as settings make it, kept
    with override_settings(LANGUAGES=[("en", "English"), ("de", "Deutsch")]):
        html = page_html(Client().get("/signin/"))
    assert "Français" not in options(html)
    assert "Français" in options(page_html(Client().get("/signin/")))

