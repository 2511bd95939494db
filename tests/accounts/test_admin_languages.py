"""Django admin in the staff member's language (issue 13): our models' fieldsets, columns,
fields, filters, actions, confirmation pages and messages, for a French and a German member
of support staff (their stored language, as on every page)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from organizations.models import Membership
from tests.helpers import page, signed_in


@pytest.fixture
def support(make_user):
    def make(language):
        staff = make_user(
            "support@backstage.test",
            full_name="Sam Support",
            is_staff=True,
            is_superuser=True,
            language=language,
        )
        return signed_in(staff)

    return make


@pytest.fixture
def ada(enrolled_member, make_organization):
    return enrolled_member(organization=make_organization("Acme Events"))


def test_a_users_change_page_is_in_french(support, ada):
    response = support("fr").get(f"/admin/accounts/user/{ada.pk}/change/")
    text = page(response)
    assert '<html lang="fr"' in text
    # Fieldset titles, field labels and a help text of ours, and the site's own name.
    for words in [
        "Second facteur",
        "Organisations",
        "Accès",
        "Dates",
        "Nom complet",
        "Équipe de support",
        "Codes de récupération restants",
        "Navigateurs mémorisés",
        "Décoché : le compte ne peut plus se connecter",
        "Support Backstage",
        "+41791234567",
    ]:
        assert words.replace(" :", "\u00a0:") in text, words
    for english in [
        "Second factor",
        "Full name",
        "Support staff",
        "Recovery codes left",
        "Remembered browsers",
        "Backstage support",
    ]:
        assert english not in text, english


def test_the_user_list_its_actions_and_filters_are_in_french(support, ada):
    text = page(support("fr").get("/admin/accounts/user/"))
    for words in [
        "E-mail",
        "Nom complet",
        "Téléphone enregistré",
        "Supprimer le téléphone de l\u2019utilisateur",
        "Fermer toutes les sessions",
        "Débloquer le mot de passe",
        "Par équipe de support",
        "Recherchez par adresse e-mail, nom ou numéro de téléphone.",
    ]:
        assert words in text, words
    for english in ["Remove user phone", "End all sessions", "Phone set", "By support staff"]:
        assert english not in text, english


def test_an_action_asks_and_answers_in_german(support, ada):
    admin = support("de")
    data = {"action": "end_all_sessions", ACTION_CHECKBOX_NAME: [ada.pk]}
    confirm = page(admin.post("/admin/accounts/user/", data))
    assert "Alle Sitzungen dieser Personen beenden?" in confirm
    assert 'value="Alle Sitzungen beenden"' in confirm
    assert "Jede Person wird sofort in allen Browsern abgemeldet" in confirm

    done = page(admin.post("/admin/accounts/user/", {**data, "post": "yes"}, follow=True))
    assert "Alle Sitzungen von 1 Person beendet." in done


def test_an_organizations_change_page_is_in_german(support, make_organization):
    acme = make_organization("Acme Events", slug="acme-events")
    text = page(support("de").get(f"/admin/organizations/organization/{acme.pk}/change/"))
    for words in [
        "Für den Identitätsanbieter des Kunden (SAML2)",
        "Vorzeitige MFA-Pflicht",
        "Beanspruchte E-Mail-Domains (Unternehmensanmeldung)",
        "Arbeitsbereiche",
        "Mitglieder",
        "Organisationen",
    ]:
        assert words in text, words
    for english in ["For the customer's identity provider", "MFA opt-in", "claimed email"]:
        assert english not in text, english


def test_the_invitation_list_names_states_in_french(support, make_organization, make_user):
    from accounts.invitations import invitation_create

    invitation_create(
        email="grace@example.com",
        organization=make_organization("Acme Events"),
        role=Membership.Role.ADMIN,
    )
    text = page(support("fr").get("/admin/accounts/invitation/"))
    for words in [
        "En attente",
        "Par état",
        "Acceptée",
        "Révoquée",
        "Expirée",
        "Rôle",
        "Administrateur",
        "Renvoyer l\u2019invitation",
        "Révoquer l\u2019invitation",
    ]:
        assert words in text, words


def test_django_otps_authenticator_apps_are_listed_in_german(support, ada, add_authenticator):
    add_authenticator(ada)
    text = page(support("de").get("/admin/otp_totp/totpdevice/"))
    for words in [
        "Authenticator-Apps",
        "Benutzer",
        "Bestätigt",
        "Erstellungsdatum",
        "Letzte Verwendung",
        "Nach Bestätigt",
        "ada@example.com",
    ]:
        assert words in text, words
    for english in ["Otp_Totp", "TOTP device", "Last used at", "By confirmed"]:
        assert english not in text, english
