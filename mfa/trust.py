"""Remembered browsers: a browser that may skip the SMS step for 14 days after a code.

The cookie holds a random 256-bit token; only its SHA-256 is stored, bound to the member,
with an expiry fixed when it was granted (not sliding).
"""

import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.events import security_event_record
from accounts.models import SecurityEvent, token_hash
from core.http import client_ip, client_of
from mfa.models import RememberedBrowser


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


def remembered_browser_use(*, user, request: HttpRequest) -> bool:
    """Whether this browser is remembered for `user`; marks it used. One query."""
    token = request.COOKIES.get(settings.MFA_REMEMBER_COOKIE_NAME)
    if not token or len(token) > 100:
        return False
    now = timezone.now()
    return bool(
        RememberedBrowser.objects.filter(
            token_hash=token_hash(token), user=user, expires_at__gt=now
        ).update(last_used_at=now, last_ip=client_ip(request) or None)
    )


def remembered_browsers_forget(*, user) -> int:
    deleted, _ = RememberedBrowser.objects.filter(user=user).delete()
    return deleted
