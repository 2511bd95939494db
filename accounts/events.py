"""The security log: one function appends to it, with the client's address and browser as
plain values (core.http.client_ip and client_user_agent read them from a request), so that
services record events without holding the request."""

from accounts.models import SecurityEvent


def security_event_record(
    *,
    kind: SecurityEvent.Kind,
    ip: str | None = None,
    user_agent: str = "",
    actor=None,
    subject=None,
    organization=None,
    **detail,
) -> SecurityEvent:
    """Append one audit record. `detail` must never hold a secret (codes, passwords, tokens).

    `ip` and `user_agent` are the client's, None and "" where no web request is behind the
    event (a command); `actor` is whoever did it, None for someone not signed in.
    """
    return SecurityEvent.objects.create(
        kind=kind,
        actor=actor,
        subject=subject,
        organization=organization,
        ip_address=ip or None,
        user_agent=user_agent[:300],
        detail=detail,
    )
