"""The security log: one function appends to it, with the client's address and browser as
plain values (core.http.client_ip and client_user_agent read them from a request), so that
services record events without holding the request."""

from accounts.models import SecurityEvent
from core.compiled import compiled_insert


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
    return _event_insert(
        SecurityEvent(
            kind=kind,
            actor=actor,
            subject=subject,
            organization=organization,
            ip_address=ip or None,
            user_agent=user_agent[:300],
            detail=detail,
        )
    )


# SecurityEvent.objects.create(), compiled (core.compiled): every sign-in writes one, and the
# ORM spent several times longer building the INSERT than the database took to run it.
# Without save()'s signals, which nobody receives for this model (no pre_save or post_save
# receiver, ours or a library's); SecurityEvent.save()'s own rule (append-only) holds, as a
# compiled insert writes only a new instance.
_event_insert = compiled_insert(SecurityEvent)
