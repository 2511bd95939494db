"""A member signed in through enterprise login confirms a security change through enterprise
login again, not with a password (issue 10, item 3; accounts.reauth)."""

import pytest

from organizations.models import SamlAuthnRequest
from tests.organizations.saml.conftest import saml_request_id

pytestmark = pytest.mark.django_db


def test_enterprise_login_member_confirms_through_enterprise_login_again(
    client, acme_trip, ada, clock
):
    assert acme_trip.post()["Location"] == "/"
    assert client.get("/settings/phone/").status_code == 200  # just signed in: fresh

    clock.advance(minutes=10)
    response = client.get("/settings/phone/")
    assert response["Location"] == "/settings/confirm-password/?next=%2Fsettings%2Fphone%2F"
    response = client.get(response["Location"])
    assert response["Location"] == "/signin/enterprise/confirm/?next=%2Fsettings%2Fphone%2F"
    response = client.get(response["Location"])
    assert response["Location"].startswith(acme_trip.idp.sso_url + "?SAMLRequest=")
    assert SamlAuthnRequest.objects.get().next_url == "/settings/phone/"

    response = acme_trip.post(in_response_to=saml_request_id(response["Location"]))
    assert response["Location"] == "/settings/phone/"
    assert client.get("/settings/phone/").status_code == 200


def test_enterprise_login_confirmation_needs_an_enterprise_login_session(ada, client):
    client.force_login(ada)
    assert client.get("/signin/enterprise/confirm/?next=/settings/phone/").status_code == 404
