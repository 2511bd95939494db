"""What the invitation tests share: the words of the pages, a valid form, and plain steps
(read the link out of an email, open it, submit the form). Fixtures are in conftest.py."""

import re

from django.contrib.auth import get_user_model

from organizations.models import Membership

User = get_user_model()

ACCEPT_URL = "/invitation/accept/"
LINK_PATTERN = re.compile(r"http://testserver(/invitation/[A-Za-z0-9_-]+/)")
PASSWORD = "correct horse battery staple"
VALID_FORM = {
    "full_name": "Grace Hopper",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "accept_privacy": "on",
}

INVALID_LINK = "This invitation link isn't valid. Check that you copied the whole link"
EXPIRED = "This invitation has expired. Ask your organization admin to send a new one."
USED = "This invitation has already been used."
SIGN_IN_WITH_PASSWORD = "Sign in with your email and password."
REVOKED = "This invitation has been withdrawn."
CREATED_MESSAGE = "Your account has been created. Sign in to continue."


def link_in(message) -> str:
    """The path of the invitation link in an email's text part."""
    match = LINK_PATTERN.search(message.body)
    assert match, message.body
    return match.group(1)


def html_part(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def open_link(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == ACCEPT_URL
    return response


def submit(client, **changes):
    return client.post(ACCEPT_URL, {**VALID_FORM, **changes})


def assert_nothing_created(invitation):
    assert not User.objects.filter(email=invitation.email).exists()
    assert not Membership.objects.filter(user__email=invitation.email).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
