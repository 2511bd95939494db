"""The Activity tab: an organization's security events for its admins (issue 3, item 7)."""

import datetime

import pytest

from accounts.events import security_event_record
from accounts.models import SecurityEvent
from organizations.models import Membership
from tests.helpers import page as text
from tests.helpers import signed_in
from tests.organizations.members_helpers import lands_on_sign_in

ADMIN = Membership.Role.ADMIN
URL = "/organizations/acme-events/activity/"
Kind = SecurityEvent.Kind


@pytest.fixture
def grace(make_member, acme):
    return make_member("grace@example.com", organization=acme, role=ADMIN,
                       full_name="Grace Hopper")


@pytest.fixture
def ada(make_member, acme):
    return make_member("ada@example.com", organization=acme)


def rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [row for row in body.split("<tr>")[1:]]


def test_admins_see_the_organizations_events_newest_first_in_words(grace, ada, acme, clock):
    security_event_record(kind=Kind.INVITATION_SENT, actor=grace, organization=acme,
                          email="alan@example.com", role="member")
    clock.advance(minutes=1)
    security_event_record(kind=Kind.ROLE_CHANGED, actor=grace, subject=ada, organization=acme,
                          previous_role="member", role="admin")
    clock.advance(minutes=1)
    security_event_record(kind=Kind.PHONE_REMOVED, actor=grace, subject=ada, organization=acme,
                          number_ending="67")

    found = rows(text(signed_in(grace).get(URL)))
    assert "Phone removed" in found[0] and "number ending in 67" in found[0]
    assert "Role changed" in found[1] and "Member → Admin" in found[1]
    assert "Invitation sent" in found[2] and "alan@example.com" in found[2]
    assert "Grace Hopper" in found[0] and "Ada Lovelace" in found[0]


def test_events_about_members_that_belong_to_no_organization_are_included(grace, ada):
    security_event_record(kind=Kind.SIGNIN_SUCCEEDED, actor=ada, subject=ada, method="sms")
    security_event_record(kind=Kind.CODE_FAILED, actor=ada, subject=ada)
    page = text(signed_in(grace).get(URL))
    assert "Signed in" in page and "with the password and a code" in page
    assert "Wrong code" in page


def test_other_organizations_events_and_strangers_stay_out(grace, ada, globex, make_member):
    hank = make_member("hank@globex.test", organization=globex, full_name="Hank Scorpio")
    Membership.objects.create(user=ada, organization=globex)
    security_event_record(kind=Kind.SIGNIN_SUCCEEDED, actor=hank, subject=hank)
    security_event_record(kind=Kind.ROLE_CHANGED, actor=hank, subject=ada, organization=globex,
                          previous_role="member", role="admin")
    security_event_record(kind=Kind.INVITATION_SENT, actor=hank, organization=globex,
                          email="secret@globex.test")
    page = text(signed_in(grace).get(URL))
    assert "Hank Scorpio" not in page
    assert "secret@globex.test" not in page
    assert "Nothing has happened yet." in page


def test_an_event_shows_once_even_when_its_subject_has_several_organizations(
    grace, ada, acme, globex
):
    Membership.objects.create(user=ada, organization=globex)
    security_event_record(kind=Kind.PHONE_REMOVED, actor=grace, subject=ada, organization=acme)
    assert text(signed_in(grace).get(URL)).count("Phone removed") == 1


def test_activity_comes_fifty_a_page_and_odd_page_numbers_are_harmless(grace, acme):
    SecurityEvent.objects.bulk_create(
        SecurityEvent(kind=Kind.INVITATION_SENT, organization=acme,
                      created_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
                      + datetime.timedelta(minutes=n))
        for n in range(70)
    )
    browser = signed_in(grace)
    assert len(rows(text(browser.get(URL)))) == 50
    assert "Page 1 of 2" in text(browser.get(URL))
    for number, shown in [("2", 2), ("9999", 2), ("-3", 2), ("x' OR 1=1", 1)]:
        response = browser.get(URL, {"page": number})
        assert response.status_code == 200
        assert f"Page {shown} of 2" in text(response)


def test_members_who_are_not_admins_get_403(ada):
    assert signed_in(ada).get(URL).status_code == 403


def test_admins_of_another_organization_get_404(make_member, globex, acme):
    outsider = make_member("hank@globex.test", organization=globex, role=ADMIN)
    assert signed_in(outsider).get(URL).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    assert lands_on_sign_in(client.get(URL))
