"""Plain functions the tests of every app share: how a test reads a page, and a browser that is
already signed in. Fixtures are in tests/conftest.py; these need no database of their own."""

import html

from django.test import Client
from django.utils import timezone

from accounts.reauth import REAUTHENTICATED_KEY
from accounts.signin import METHOD_KEY


def page(response) -> str:
    """The page as a person reads it: entities such as &#x27; turned back into characters."""
    return html.unescape(response.content.decode())


def page_html(response) -> str:
    """The page as the server wrote it, entities and all, for tests that check the markup
    (that a name is escaped, that an apostrophe is written &#x27;)."""
    return response.content.decode()


def signed_in(user, *, method: str = "sms", password_just_given: bool = False) -> Client:
    """A browser of `user`, signed in with the password and, by default, the SMS code; with
    `password_just_given`, its password was given just now (accounts.reauth), else longer
    ago than a security change accepts."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[METHOD_KEY] = method
    session.save()
    if password_just_given:
        password_given(client, user)
    return client


def password_given(client: Client, user) -> Client:
    """Record on `client`'s session that `user` gave their password now (the test clock's
    now), as the sign-in page and Confirm your password do."""
    session = client.session
    session[REAUTHENTICATED_KEY] = {"user": user.pk, "at": timezone.now().isoformat()}
    session.save()
    return client
