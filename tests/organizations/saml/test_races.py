"""Replays racing on two app servers: the database decides, exactly one post signs in."""

import functools

import pytest
from django.test import Client

from accounts.models import SecurityEvent
from tests.races import at_once
from tests.saml_idp import encode


def race(url: str, bodies: list[bytes]) -> list[int]:
    """Each body posted to `url` by a browser of its own, all at once; the statuses, sorted."""

    def post(xml):
        return Client().post(url, {"SAMLResponse": encode(xml)}).status_code

    return sorted(at_once(*(functools.partial(post, body) for body in bodies)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_response_posted_at_once_signs_in_once(acme_trip, ada):
    xml = acme_trip.response_xml()

    assert race(acme_trip.acs_url, [xml] * 4) == [302, 403, 403, 403]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_SIGNIN).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_assertion_id_answering_two_requests_at_once_signs_in_once(acme_trip, ada):
    bodies = [acme_trip.response_xml(assertion_id="_raced") for _ in range(4)]

    assert race(acme_trip.acs_url, bodies) == [302, 403, 403, 403]
    reasons = [event.detail["reason"] for event in
               SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_REFUSED)]
    assert reasons == ["replayed"] * 3
