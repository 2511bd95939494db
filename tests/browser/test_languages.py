"""The first sign-in in French, in a real browser: the invitation email in the language the
admin chose, then every page in the browser's language, axe-clean (html-has-lang and
valid-lang among its rules), with the country picker's names in French."""

import re

import pytest
from playwright.sync_api import expect

from accounts.invitations import invitation_create
from organizations.models import Membership, Workspace

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern quietly orbit 42"
ACCEPT_PRIVACY = "J\u2019accepte la politique de confidentialit\u00e9"


def label(text: str) -> re.Pattern:
    """A field's label: French puts a (narrow no-break) space before Django's colon."""
    return re.compile(rf"^{re.escape(text)}\s?:?$")


def test_from_the_invitation_email_to_the_home_page_in_french(
    open_browser, email_inbox, sms_inbox, make_organization, make_member
):
    acme = make_organization(name="Acme Events")
    Workspace.objects.create(organization=acme, name="Spring Summit 2025", slug="spring-summit")
    admin = make_member("ada@example.com", organization=acme, role=Membership.Role.ADMIN)
    invitation_create(email="grace@example.com", organization=acme, invited_by=admin,
                      language="fr")
    person = open_browser(locale="fr-FR")
    page = person.page

    invitation = email_inbox.last_to("grace@example.com")
    assert "Vous êtes invité à rejoindre Acme Events" in invitation["Subject"]
    page.set_content(invitation.get_body(preferencelist=("html",)).get_content())
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("link", name="Se connecter à Backstage").click()

    expect(page.get_by_role("heading", name="Créez votre mot de passe")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    person.check("fr-invitation")
    page.get_by_label(label("Nom complet")).fill("Grace Hopper")
    page.get_by_label(label("Mot de passe")).fill(NEW_PASSWORD)
    page.get_by_label(label("Confirmez le mot de passe")).fill(NEW_PASSWORD)
    page.get_by_label(ACCEPT_PRIVACY).check()
    page.get_by_role("button", name="Confirmer le compte").click()

    expect(page.get_by_role("status")).to_contain_text("Votre compte a été créé")
    person.check("fr-signin")
    assert email_inbox.last_to("grace@example.com")["Subject"] == (
        "Votre compte Backstage a été créé"
    )
    page.get_by_label(label("Mot de passe")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()

    expect(page.get_by_role("heading", name="Votre téléphone mobile")).to_be_visible()
    page.locator(".iti__selected-country").click()
    box = page.get_by_role("combobox", name="Rechercher par pays ou indicatif")
    box.fill("Sui")
    expect(page.get_by_role("option", name=re.compile(r"^Suisse"))).to_be_visible()
    person.check("fr-phone-search", widths=(1440,))
    page.get_by_role("option", name=re.compile(r"^Suisse")).click()
    page.get_by_label(label("Numéro de mobile")).fill("079 123 45 67")
    person.check("fr-phone")
    page.get_by_role("button", name="Envoyer un code").click()

    expect(page.get_by_role("heading", name="Saisissez votre code")).to_be_visible()
    person.check("fr-code")
    text = sms_inbox.messages()[-1]
    code = re.search(r"Votre code Backstage est (\d{6})\.", text).group(1)
    assert text.rstrip().endswith(f" #{code}")
    page.get_by_label(label("Code")).fill(code)
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", name="Bienvenue, Grace")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    person.check("fr-home")
