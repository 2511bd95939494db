"""Helpers for reading a request, for every app: where a `next` parameter may send someone."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


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
