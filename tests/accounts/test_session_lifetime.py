"""How long a signed-in session lasts: 12 hours from the sign-in, an hour idle (SECURITY 23)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.session_lifetime import (
    IDP_END_KEY,
    LAST_SEEN_KEY,
    SIGNED_IN_AT_KEY,
    session_lifetime_check,
    session_lifetime_end_by,
    session_lifetime_start,
)
from tests.helpers import page

IDLE = "You were signed out after an hour without activity. Sign in again to continue."
TOO_OLD = "For your security, you are asked to sign in again every 12 hours."
IDP_ENDED = "Your organization's sign-in has expired. Sign in again to continue."


@pytest.fixture
def signed_in(enrolled_member, sign_in, client, last_code, clock):
    """Ada, signed in with her password and an SMS code at clock.now."""
    enrolled_member()
    sign_in()
    assert client.post("/signin/code/", {"code": last_code()})["Location"] == "/"
    return client


# The rule -----------------------------------------------------------------------------------


def test_a_fresh_session_is_good_and_not_rewritten():
    now = timezone.now()
    session = {}
    session_lifetime_start(session, now=now)
    before = dict(session)
    assert session_lifetime_check(session, now=now + timedelta(minutes=4)) is None
    assert session == before  # nothing to save within five minutes


def test_activity_moves_the_idle_clock_every_five_minutes():
    now = timezone.now()
    session = {}
    session_lifetime_start(session, now=now)
    assert session_lifetime_check(session, now=now + timedelta(minutes=5)) is None
    assert session[LAST_SEEN_KEY] == int((now + timedelta(minutes=5)).timestamp())
    assert session[SIGNED_IN_AT_KEY] == int(now.timestamp())


def test_an_hour_and_a_second_idle_ends_the_session():
    now = timezone.now()
    session = {}
    session_lifetime_start(session, now=now)
    assert session_lifetime_check(session, now=now + timedelta(hours=1)) is None
    session_lifetime_start(session, now=now)
    assert session_lifetime_check(session, now=now + timedelta(hours=1, seconds=1)) == IDLE


def test_twelve_hours_after_the_sign_in_the_session_ends_however_busy():
    now = timezone.now()
    session = {}
    session_lifetime_start(session, now=now)
    session[LAST_SEEN_KEY] = int((now + timedelta(hours=12)).timestamp())
    assert session_lifetime_check(session, now=now + timedelta(hours=12, seconds=1)) == TOO_OLD


def test_a_session_from_before_the_rule_starts_its_clock_now():
    now = timezone.now()
    session = {"_auth_user_id": "1"}
    assert session_lifetime_check(session, now=now) is None
    assert session[SIGNED_IN_AT_KEY] == session[LAST_SEEN_KEY] == int(now.timestamp())


def test_the_identity_providers_limit_ends_the_session_at_that_second():
    now = timezone.now().replace(microsecond=0)
    session = {}
    session_lifetime_start(session, now=now)
    session_lifetime_end_by(session, now + timedelta(minutes=30))
    assert session_lifetime_check(session, now=now + timedelta(minutes=29, seconds=59)) is None
    assert session_lifetime_check(session, now=now + timedelta(minutes=30)) == IDP_ENDED


def test_twelve_hours_win_over_a_later_identity_provider_limit():
    now = timezone.now()
    session = {}
    session_lifetime_start(session, now=now)
    session_lifetime_end_by(session, now + timedelta(days=30))
    session[LAST_SEEN_KEY] = int((now + timedelta(hours=12)).timestamp())
    assert session_lifetime_check(session, now=now + timedelta(hours=12, seconds=1)) == TOO_OLD


def test_the_limit_that_passed_first_is_the_one_told():
    now = timezone.now()
    for idp_end, told in [(timedelta(minutes=30), IDP_ENDED), (timedelta(hours=2), IDLE)]:
        session = {}
        session_lifetime_start(session, now=now)
        session_lifetime_end_by(session, now + idp_end)
        assert session_lifetime_check(session, now=now + timedelta(hours=3)) == told


def test_a_new_sign_in_drops_the_identity_providers_limit():
    now = timezone.now()
    session = {}
    session_lifetime_start(session, now=now)
    session_lifetime_end_by(session, now + timedelta(minutes=1))
    session_lifetime_start(session, now=now)
    session_lifetime_end_by(session, None)
    assert IDP_END_KEY not in session
    assert session_lifetime_check(session, now=now + timedelta(minutes=2)) is None


# Through the pages --------------------------------------------------------------------------


def test_after_an_hour_idle_the_member_signs_in_again_and_is_told_why(signed_in, clock):
    clock.advance(minutes=61)
    response = signed_in.get("/settings/")
    assert response["Location"] == "/signin/?next=/settings/"
    assert IDLE in page(signed_in.get(response["Location"]))
    assert "_auth_user_id" not in signed_in.session


def test_requests_now_and_then_keep_the_member_signed_in(signed_in, clock):
    for _ in range(3):
        clock.advance(minutes=50)
        assert signed_in.get("/settings/").status_code == 200


def test_twelve_hours_after_signing_in_the_member_signs_in_again(signed_in, clock):
    for _ in range(14):  # 11 hours 40 minutes, never idle for long
        clock.advance(minutes=50)
        assert signed_in.get("/").status_code == 200
    clock.advance(minutes=21)
    response = signed_in.get("/")
    assert response["Location"] == "/signin/?next=/"
    assert TOO_OLD in page(signed_in.get(response["Location"]))


def test_django_admin_sessions_end_the_same_way(signed_in, clock, enrolled_member):
    from accounts.models import User

    User.objects.filter(email="ada@example.com").update(is_staff=True, is_superuser=True)
    assert signed_in.get("/admin/").status_code == 200
    clock.advance(minutes=61)
    assert signed_in.get("/admin/").status_code == 302
    assert "_auth_user_id" not in signed_in.session


def test_a_page_view_within_five_minutes_does_not_write_the_session(
    signed_in, clock, django_assert_num_queries
):
    signed_in.get("/")
    clock.advance(minutes=1)
    with django_assert_num_queries(4):  # session, user, sidebar, workspaces: no session save
        assert signed_in.get("/").status_code == 200
