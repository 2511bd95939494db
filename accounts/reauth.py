"""Re-authentication before security changes ("sudo mode", issue 10).

Changing the phone, setting up or removing an authenticator app, ending the other sessions
(and whatever else is decorated with `reauthentication_required`) ask for the password again
on **Confirm your password**, unless the password or enterprise login was given in this
session within settings.REAUTHENTICATION_VALID_FOR. A session that holds a signed-in cookie,
or a remembered browser left open, is then not enough to take the account over.

`reauthenticated_at_record` is called wherever the password or enterprise login is verified:
the sign-in's password step, the Confirm your password page and enterprise login's ACS.
"""

from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts.signin import METHOD_KEY, Method
from core.http import safe_next_url
from organizations.sso import sso_organization_for_email

REAUTHENTICATED_KEY = "reauthenticated_at"


def reauthenticated_at_record(request: HttpRequest, user=None) -> None:
    """The password (or enterprise login) of `user` (the signed-in member by default) was
    verified just now in this session.

    The member's id is kept beside the time: the password step records it before the
    session is signed in, and it must not vouch for anybody else signed in on it later.
    """
    user = user if user is not None else request.user
    request.session[REAUTHENTICATED_KEY] = {"user": user.pk, "at": timezone.now().isoformat()}


def reauthentication_fresh(request: HttpRequest) -> bool:
    """Whether the signed-in member gave their password (or enterprise login) in this
    session within REAUTHENTICATION_VALID_FOR."""
    data = request.session.get(REAUTHENTICATED_KEY)
    if not data or not request.user.is_authenticated or data.get("user") != request.user.pk:
        return False
    at = datetime.fromisoformat(data["at"])
    return timezone.now() - at < settings.REAUTHENTICATION_VALID_FOR


def reauthentication_organization(request: HttpRequest):
    """The organization whose enterprise login the member confirms through: the one they
    signed in with on this session, if it still has enterprise login; else None (the
    password, then)."""
    if request.session.get(METHOD_KEY) != Method.SSO:
        return None
    return sso_organization_for_email(request.user.email)


def reauthentication_url(next_url: str) -> str:
    return reverse("accounts:password-confirm") + "?" + urlencode({"next": next_url})


def _return_to(request: HttpRequest) -> str:
    """Where to come back to once confirmed: the page itself, or for a form's POST (which
    cannot be replayed) the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    return safe_next_url(request, request.headers.get("Referer", "")) or reverse(
        "accounts:settings"
    )


def reauthentication_required(view):
    """For views that change how the member signs in: a fresh password (or enterprise
    login) in this session, else on to Confirm your password and back."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if reauthentication_fresh(request):
            return view(request, *args, **kwargs)
        return redirect(reauthentication_url(_return_to(request)))

    return guarded
