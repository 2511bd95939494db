"""`{% cached_per_language %}` (core.per_language): rendered once per language and kept, it
still shows each page in its own language, under its own URL prefix, after a setting it
reads changes, and never anything of one request's context."""

import pytest
from django.template import TemplateSyntaxError, engines
from django.test import Client, override_settings
from django.urls import set_script_prefix
from django.utils import translation

from tests.helpers import page_html

SWITCH = '<select id="language-switch" name="language">'


def render(source: str, **context) -> str:
    return engines["django"].from_string("{% load per_language %}" + source).render(context)


def options(html: str) -> str:
    return " ".join(html.split(SWITCH)[1].split("</select>")[0].split())


def csrf_token(html: str) -> str:
    return html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def test_each_language_has_its_own_words_and_selected_option(db):
    english = page_html(Client().get("/signin/"))
    french = page_html(Client(headers={"accept-language": "fr"}).get("/signin/"))
    again = page_html(Client().get("/signin/"))
    assert '<a class="skip-link" href="#main">Skip to content</a>' in english
    assert '<option value="en" lang="en" selected>English</option>' in options(english)
    assert '<a class="skip-link" href="#main">Aller au contenu</a>' in french
    assert '<option value="fr" lang="fr" selected>Français</option>' in options(french)
    # Each name through gettext, as get_available_languages gives it: Django's catalog has
    # the French for "English".
    assert '<option value="en" lang="en">Anglais</option>' in options(french)
    assert again == english.replace(csrf_token(english), csrf_token(again))


def test_the_block_never_sees_the_pages_context():
    source = "{% cached_per_language %}[{{ secret }}]{% csrf_token %}{% endcached_per_language %}"
    assert render(source, secret="one person's", csrf_token="abc") == "[]"
    assert render(source, secret="another's", csrf_token="def") == "[]"


def test_the_addresses_follow_the_url_prefix():
    """The prefix that WSGIHandler sets from each request's SCRIPT_NAME (the test client
    leaves it at "/")."""
    source = "{% cached_per_language %}{% url 'accounts:signin' %}{% endcached_per_language %}"
    assert render(source) == "/signin/"
    set_script_prefix("/backstage/")
    try:
        assert render(source) == "/backstage/signin/"
    finally:
        set_script_prefix("/")
    assert render(source) == "/signin/"


def test_the_words_follow_the_active_language():
    source = (
        "{% load i18n %}"
        "{% cached_per_language %}{% translate 'Sign in' %}{% endcached_per_language %}"
    )
    assert render(source) == "Sign in"
    with translation.override("de"):
        assert render(source) == "Anmelden"


def test_a_changed_setting_is_seen(db):
    page_html(Client().get("/signin/"))  # the footer as the settings make it, kept
    with override_settings(LANGUAGES=[("en", "English"), ("de", "Deutsch")]):
        html = page_html(Client().get("/signin/"))
    assert "Français" not in options(html)
    assert "Français" in options(page_html(Client().get("/signin/")))


def test_the_tag_takes_no_arguments_and_holds_no_block():
    with pytest.raises(TemplateSyntaxError):
        render("{% cached_per_language user %}{% endcached_per_language %}")
    with pytest.raises(TemplateSyntaxError):
        render("{% cached_per_language %}{% block b %}{% endblock %}{% endcached_per_language %}")
