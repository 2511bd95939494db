from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest

from accounts.events import security_event_record
from accounts.models import SecurityEvent, User, new_security_stamp


def user_sessions_end(
    *, user: User, request: HttpRequest | None = None, keep_current: bool = False, actor=None
) -> None:
    """End every session of `user` at once, without scanning the session table.

    The security stamp is mixed into the session auth hash (User._get_session_auth_hash),
    so a new stamp makes every stored session, and every half-finished sign-in, stale.
    With `keep_current`, the session of `request` (the user's own) is carried over.
    """
    user.security_stamp = new_security_stamp()
    user.save(update_fields=["security_stamp"])
    if keep_current and request is not None:
        update_session_auth_hash(request, user)
    security_event_record(
        kind=SecurityEvent.Kind.SESSIONS_ENDED, request=request, actor=actor, subject=user
    )
