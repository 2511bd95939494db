"""Plain functions the tests of every app share: how a test reads a page, and a browser that is
already signed in. Fixtures are in tests/conftest.py; these need no database of their own."""

import html

from django.test import Client

from accounts.signin import METHOD_KEY


def page(response) -> str:
    """The page as a person reads it: entities such as &#x27; turned back into characters."""
    return html.unescape(response.content.decode())


def page_html(response) -> str:
    """The page as the server wrote it, entities and all, for tests that check the markup
    (that a name is escaped, that an apostrophe is written &#x27;)."""
    return response.content.decode()


def signed_in(user, *, method: str = "sms") -> Client:
    """A browser of `user`, signed in with the password and, by default, the SMS code."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[METHOD_KEY] = method
    session.save()
    return client
