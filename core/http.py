"""Request helpers every app may use: who is asking (`client_ip`, `client_user_agent`),
`client_of`, which gives both as the plain `ip=` and `user_agent=` that services take, so
that services never need the request for them, and where a `next` parameter may send
someone (`safe_next_url`)."""

from django.conf import settings
from django.http import HttpRequest
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


def safe_next_url(request: HttpRequest, url: str | None = None) -> str:
    """`url`, or else the request's `next` parameter, if it points into this site; else "".

    The sign-in page and enterprise login read `next` from the request; enterprise login
    passes the one it kept for the way back from the identity provider, checked again.
    """
    if url is None:
        url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""
