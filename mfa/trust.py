"""Remembered browsers, every rule about them: a browser that may skip the code step for
settings.MFA_REMEMBER_FOR after a code.

Granted after a code (remembered_browser_grant), used at the next sign-in
(remembered_browser_use), listed in personal settings with "this browser" marked
(remembered_browsers_list) and counted in Django admin (remembered_browsers_count), and
forgotten: one or all at the member's request (remembered_browser_revoke,
remembered_browsers_revoke), or all as part of another change, a new password or phone or
a phone reset (remembered_browsers_forget).

The cookie holds a random 256-bit token; only its SHA-256 is stored, bound to the member,
with an expiry fixed when it was granted (not sliding).
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.events import security_event_record
from accounts.models import SecurityEvent, token_hash
from core.http import client_ip, client_of
from mfa.models import RememberedBrowser

# secrets.token_urlsafe(32) gives 43 characters; a much longer cookie is not one of ours,
# and is not worth hashing.
TOKEN_MAX_LENGTH = 100


def _cookie_token(request: HttpRequest) -> str:
    """The token this browser presents, or "" if it has none that could be ours."""
    token = request.COOKIES.get(settings.MFA_REMEMBER_COOKIE_NAME, "")
    return token if len(token) <= TOKEN_MAX_LENGTH else ""


def _live(*, user, now: datetime):
    """`user`'s remembered browsers whose time has not run out at `now`."""
    return RememberedBrowser.objects.filter(user=user, expires_at__gt=now)


def remembered_browser_grant(*, user, request: HttpRequest, response: HttpResponse) -> None:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    RememberedBrowser.objects.create(
        user=user,
        token_hash=token_hash(token),
        user_agent=request.headers.get("User-Agent", "")[:300],
        created_at=now,
        expires_at=now + settings.MFA_REMEMBER_FOR,
        last_used_at=now,
        last_ip=client_ip(request) or None,
    )
    response.set_cookie(
        settings.MFA_REMEMBER_COOKIE_NAME,
        token,
        max_age=int(settings.MFA_REMEMBER_FOR.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    security_event_record(
        kind=SecurityEvent.Kind.BROWSER_REMEMBERED, **client_of(request), actor=user,
        subject=user,
    )


def remembered_browser_presented(request: HttpRequest) -> bool:
    """Whether this browser shows a token that could be a remembered browser's (no query)."""
    return bool(_cookie_token(request))


def remembered_browser_use(*, user, request: HttpRequest) -> bool:
    """Whether this browser is remembered for `user`; marks it used. One query."""
    token = _cookie_token(request)
    if not token:
        return False
    now = timezone.now()
    return bool(
        _live(user=user, now=now).filter(token_hash=token_hash(token))
        .update(last_used_at=now, last_ip=client_ip(request) or None)
    )


def remembered_browsers_list(*, user, request: HttpRequest) -> list[RememberedBrowser]:
    """`user`'s browsers still remembered, last used first; `this_browser` is True on the one
    that `request` comes from."""
    token = _cookie_token(request)
    this_hash = token_hash(token) if token else ""
    browsers = list(_live(user=user, now=timezone.now()).order_by("-last_used_at", "-pk"))
    for browser in browsers:
        browser.this_browser = bool(this_hash) and constant_time_compare(
            this_hash, browser.token_hash
        )
    return browsers


def remembered_browsers_count(*, user) -> int:
    return _live(user=user, now=timezone.now()).count()


def remembered_browsers_forget(*, user) -> int:
    """Forget every browser remembered for `user`, as part of a change that records itself."""
    deleted, _ = RememberedBrowser.objects.filter(user=user).delete()
    return deleted


def remembered_browser_revoke(*, user, browser_id: int, request: HttpRequest) -> bool:
    """Forget one of `user`'s remembered browsers; False if `user` has none with that id."""
    deleted, _ = RememberedBrowser.objects.filter(user=user, pk=browser_id).delete()
    _forgotten_record(user=user, request=request, deleted=deleted)
    return bool(deleted)


def remembered_browsers_revoke(*, user, request: HttpRequest) -> int:
    """Forget every remembered browser of `user`, at their own request."""
    deleted = remembered_browsers_forget(user=user)
    _forgotten_record(user=user, request=request, deleted=deleted)
    return deleted


def _forgotten_record(*, user, request: HttpRequest, deleted: int) -> None:
    if deleted:
        security_event_record(
            kind=SecurityEvent.Kind.BROWSER_FORGOTTEN, **client_of(request), actor=user,
            subject=user, browsers=deleted,
        )
