"""Ending every session of a member at once (SPEC "Sessions")."""

from django.test import Client, RequestFactory

from accounts.models import SecurityEvent
from accounts.services import user_sessions_end


def signed_in_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_ending_all_sessions_signs_out_every_browser(make_member):
    user = make_member()
    browsers = [signed_in_client(user), signed_in_client(user)]
    user_sessions_end(user=user)
    for browser in browsers:
        assert browser.get("/")["Location"] == "/signin/?next=/"
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.SESSIONS_ENDED, subject=user
    ).exists()


def test_ending_all_sessions_also_ends_a_half_finished_sign_in(enrolled_member, sign_in, client):
    user = enrolled_member()
    sign_in()
    user_sessions_end(user=user)
    assert client.post("/signin/code/", {"code": "123456"})["Location"] == "/signin/"


def test_keep_current_carries_the_members_own_session_over(make_member):
    user = make_member()
    mine, other = signed_in_client(user), signed_in_client(user)
    request = RequestFactory().get("/")
    request.session = mine.session
    request.user = user
    user_sessions_end(user=user, request=request, keep_current=True)
    request.session.save()
    mine.cookies["__Host-sessionid"] = request.session.session_key
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302
