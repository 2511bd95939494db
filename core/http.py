"""Request helpers every app may use: who is asking (`client_ip`, `client_user_agent`),
`client_of`, which gives both as the plain `ip=` and `user_agent=` that services take, so
that services never need the request for them, and where a `next` parameter may send
someone (`safe_next_url`, and `redirect_to_next` to send them there)."""

import unicodedata

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request: HttpRequest) -> str:
    """The client's IP address, taking X-Forwarded-For only from trusted proxies.

    Each of the TRUSTED_PROXY_COUNT proxies appends the address it saw, so the client is
    that many entries from the right; anything further left was written by the client.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.TRUSTED_PROXY_COUNT <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < settings.TRUSTED_PROXY_COUNT:
        return remote
    return forwarded[-settings.TRUSTED_PROXY_COUNT]


def client_user_agent(request: HttpRequest) -> str:
    """The client's User-Agent header, as sent ("" without one); stores cut it to their size."""
    return request.headers.get("User-Agent", "")


def client_of(request: HttpRequest | None) -> dict:
    """The client of `request` as the plain values services take (`ip=`, `user_agent=`):
    `service(..., **client_of(request))`. None and "" where no request is behind it."""
    if request is None:
        return {"ip": None, "user_agent": ""}
    return {"ip": client_ip(request) or None, "user_agent": client_user_agent(request)}


# The longest `next` kept: enterprise login stores it with its AuthnRequest
# (organizations.models.SamlAuthnRequest.next_url); a longer one is no link of ours.
NEXT_URL_MAX_LENGTH = 2000


def safe_next_url(request: HttpRequest, url: str | None = None) -> str:
    """`url`, or else the request's `next` parameter, if it points into this site; else "".

    Only a path ("/...") or an absolute URL of this host counts: anything else ("foo",
    "admin:index") is treated as absent, never resolved as a URL name as Django's
    `redirect()` would (a name that does not exist is a server error, after the code was
    used). Control characters (a NUL, which PostgreSQL refuses in text) make it absent too.

    The sign-in page and enterprise login read `next` from the request; enterprise login
    passes the one it kept for the way back from the identity provider, checked again.
    """
    if url is None:
        url = request.POST.get("next") or request.GET.get("next") or ""
    if (
        not url
        or len(url) > NEXT_URL_MAX_LENGTH
        or any(unicodedata.category(char) == "Cc" for char in url)
        or not (url.startswith("/") or url.lower().startswith(("http://", "https://")))
    ):
        return ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def redirect_to_next(next_url: str) -> HttpResponseRedirect:
    """Where a sign-in goes on: `next_url` (from safe_next_url) as it is, or else home.

    Not Django's `redirect()`, which would first try `next_url` as the name of a URL.
    """
    return HttpResponseRedirect(next_url or resolve_url("home"))
