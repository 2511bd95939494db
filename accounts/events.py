from django.http import HttpRequest

from accounts.models import SecurityEvent
from core.http import client_ip


def security_event_record(
    *,
    kind: SecurityEvent.Kind,
    request: HttpRequest | None = None,
    actor=None,
    subject=None,
    organization=None,
    **detail,
) -> SecurityEvent:
    """Append one audit record. `detail` must never hold a secret (codes, passwords, tokens)."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return SecurityEvent.objects.create(
        kind=kind,
        actor=actor,
        subject=subject,
        organization=organization,
        ip_address=client_ip(request) or None if request else None,
        user_agent=request.headers.get("User-Agent", "")[:300] if request else "",
        detail=detail,
    )
