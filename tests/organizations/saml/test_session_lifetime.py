"""The session that enterprise login opens ends no later than the IdP's SessionNotOnOrAfter,
and no later than our own limits (12 hours from the sign-in, an hour idle) either."""

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from accounts.models import SecurityEvent
from accounts.session_lifetime import IDP_END_KEY
from tests.helpers import page
from tests.saml_idp import NSMAP

pytestmark = pytest.mark.django_db

IDP_ENDED = "Your organization's sign-in has expired. Sign in again to continue."
IDLE = "You were signed out after an hour without activity. Sign in again to continue."
TOO_OLD = "For your security, you are asked to sign in again every 12 hours."


def assert_signed_out_and_told(client, message):
    response = client.get("/")
    assert response["Location"] == "/signin/?next=/"
    assert message in page(client.get(response["Location"]))
    assert "_auth_user_id" not in client.session


def refusal_reasons() -> list[str]:
    return [
        event.detail["reason"]
        for event in SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_REFUSED)
    ]


def test_the_session_ends_when_the_identity_provider_says(client, acme_trip, ada, clock):
    response = acme_trip.post(session_not_on_or_after=clock.now + timedelta(minutes=30))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(ada.pk)

    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=1)
    assert_signed_out_and_told(client, IDP_ENDED)


def test_the_hour_idle_still_applies_before_a_later_idp_limit(client, acme_trip, ada, clock):
    acme_trip.post(session_not_on_or_after=clock.now + timedelta(hours=8))

    clock.advance(minutes=61)

    assert_signed_out_and_told(client, IDLE)


def test_back_after_the_idp_limit_and_idle_is_told_the_limit_that_came_first(
    client, acme_trip, ada, clock
):
    acme_trip.post(session_not_on_or_after=clock.now + timedelta(minutes=30))

    clock.advance(hours=3)

    assert_signed_out_and_told(client, IDP_ENDED)


def test_twelve_hours_still_apply_when_the_idp_allows_far_longer(client, acme_trip, ada, clock):
    acme_trip.post(session_not_on_or_after="9999-12-31T23:59:59Z")
    assert client.session["_auth_user_id"] == str(ada.pk)

    for _ in range(14):  # 11 hours 40 minutes, never idle for long
        clock.advance(minutes=50)
        assert client.get("/").status_code == 200
    clock.advance(minutes=21)

    assert_signed_out_and_told(client, TOO_OLD)


def test_without_session_not_on_or_after_our_limits_alone_apply(client, acme_trip, ada, clock):
    acme_trip.post()
    assert IDP_END_KEY not in client.session

    for _ in range(3):
        clock.advance(minutes=50)
        assert client.get("/").status_code == 200


def test_a_new_sign_in_drops_the_previous_idp_limit(client, acme_trip, ada, clock):
    first, second = acme_trip.start(), acme_trip.start()
    acme_trip.post(in_response_to=first,
                   session_not_on_or_after=clock.now + timedelta(minutes=30))
    acme_trip.post(in_response_to=second)
    assert IDP_END_KEY not in client.session

    clock.advance(minutes=31)

    assert client.get("/").status_code == 200


def test_the_idp_limit_costs_no_query(client, acme_trip, ada, clock, django_assert_num_queries):
    acme_trip.post(session_not_on_or_after=clock.now + timedelta(hours=2))
    client.get("/")
    clock.advance(minutes=1)

    with django_assert_num_queries(4):  # session, user, sidebar, workspaces: as without it
        assert client.get("/").status_code == 200


# Refused at the door -------------------------------------------------------------------------

@pytest.mark.parametrize("moment", [
    datetime.now(UTC) - timedelta(minutes=10),
    "1970-01-01T00:00:00Z",  # a zero timestamp, which python3-saml takes for "none"
    "0001-01-01T00:00:00Z",
])
def test_a_session_not_on_or_after_already_past_is_refused(client, acme_trip, ada, moment):
    response = acme_trip.post(session_not_on_or_after=moment)

    assert response.status_code == 403
    assert "says your sign-in there has already ended" in page(response)
    assert refusal_reasons() == ["session_expired"]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("value", "reason"), [
    ("tomorrow", "invalid_xml_format"),
    ("2030-01-01T00:00:00+02:00", "invalid_response"),  # a time zone python3-saml cannot read
    ("10000-01-01T00:00:00Z", "invalid_response"),
])
def test_an_unreadable_session_not_on_or_after_is_refused_not_a_crash(
    client, acme_trip, ada, value, reason
):
    response = acme_trip.post(session_not_on_or_after=value)

    assert response.status_code == 403
    assert refusal_reasons() == [reason]
    assert "_auth_user_id" not in client.session


def test_session_not_on_or_after_changed_after_signing_is_refused(client, acme_trip, ada, clock):
    """The limit comes from the signed assertion, never from what was added to it later."""
    xml = acme_trip.response_xml(session_not_on_or_after=clock.now + timedelta(minutes=10))
    root = etree.fromstring(xml)
    root.find("saml:Assertion/saml:AuthnStatement", NSMAP).set(
        "SessionNotOnOrAfter", "9999-12-31T23:59:59Z"
    )

    response = acme_trip.post(etree.tostring(root))

    assert response.status_code == 403
    assert refusal_reasons() == ["invalid_signature"]
