"""Helpers of the Members, phone reset, Activity and support-admin tests (plain functions;
the fixtures they build on are in tests/conftest.py)."""

import html

from django.test import Client

from accounts.signin import METHOD_KEY


def signed_in(user, *, method: str = "sms") -> Client:
    """A browser of `user`, signed in with the password and, by default, the SMS code."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[METHOD_KEY] = method
    session.save()
    return client


def text(response) -> str:
    """The page as a person reads it: entities such as &#x27; turned back into characters."""
    return html.unescape(response.content.decode())


def lands_on_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/signin/?next=")
