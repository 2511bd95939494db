"""How long a signed-in session lasts (SECURITY.md 23).

At most SESSION_COOKIE_AGE after the sign-in, however busy, and SESSION_IDLE_TIMEOUT after
the last request; after enterprise login, also no later than the identity provider said
(SessionNotOnOrAfter). All are read from the session itself, so every app server agrees and
no query is needed.

A session can also end from elsewhere (accounts.services.user_sessions_end); the sign-in page
then says why when the member is owed a reason, at the cost of one query for that request.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SecurityEvent
from accounts.signin import METHOD_KEY, Method
from core.limits import duration_words

SIGNED_IN_AT_KEY = "signed_in_at"
LAST_SEEN_KEY = "last_seen_at"
IDP_END_KEY = "idp_session_not_on_or_after"
# Saving the session on every request would cost a write each time; a few minutes more
# or less on the idle timeout is worth not doing that.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)

IDLE_MESSAGE = _("You were signed out after {idle} without activity. Sign in again to continue.")
TOO_OLD_MESSAGE = _("For your security, you are asked to sign in again every {age}.")
IDP_ENDED_MESSAGE = _("Your organization's sign-in has expired. Sign in again to continue.")
PHONE_REMOVED_MESSAGE = _("An administrator removed your phone: sign in and add a new one.")
ENTERPRISE_LOGIN_NOW_MESSAGE = _(
    "Your organization now signs you in with Enterprise login. Sign in again to continue."
)


def session_lifetime_start(session, *, now: datetime | None = None) -> None:
    stamp = int((now or timezone.now()).timestamp())
    session[SIGNED_IN_AT_KEY] = stamp
    session[LAST_SEEN_KEY] = stamp
    # A limit set by the identity provider of an earlier sign-in is not this one's.
    session.pop(IDP_END_KEY, None)


def session_lifetime_on_login(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: every way of signing in starts the clock."""
    if request is not None and hasattr(request, "session"):
        session_lifetime_start(request.session)


def session_lifetime_end_by(session, not_on_or_after: datetime | None) -> None:
    """End this session at `not_on_or_after` at the latest (the IdP's SessionNotOnOrAfter),
    on top of our own limits. Call it after the sign-in, which starts the clock afresh."""
    if not_on_or_after is not None:
        session[IDP_END_KEY] = int(not_on_or_after.timestamp())


def session_lifetime_check(session, *, now: datetime | None = None) -> str | None:
    """Why this signed-in session is over, or None after noting this request in it."""
    now = now or timezone.now()
    signed_in_at, last_seen = session.get(SIGNED_IN_AT_KEY), session.get(LAST_SEEN_KEY)
    if signed_in_at is None or last_seen is None:
        # Signed in before this rule existed: the clock starts now.
        session_lifetime_start(session, now=now)
        return None
    seconds = int(now.timestamp())
    # The last second each limit allows, and what to say once it has passed. When several
    # have passed (back after a long break), the one that ended the session first is told.
    limits = [
        (signed_in_at + settings.SESSION_COOKIE_AGE, TOO_OLD_MESSAGE.format(
            age=duration_words(timedelta(seconds=settings.SESSION_COOKIE_AGE))
        )),
        (last_seen + int(settings.SESSION_IDLE_TIMEOUT.total_seconds()), IDLE_MESSAGE.format(
            idle=duration_words(settings.SESSION_IDLE_TIMEOUT)
        )),
    ]
    idp_end = session.get(IDP_END_KEY)
    if idp_end is not None:
        limits.append((idp_end - 1, IDP_ENDED_MESSAGE))  # NotOnOrAfter: that second is out
    passed = [limit for limit in limits if seconds > limit[0]]
    if passed:
        return min(passed)[1]
    if seconds - last_seen >= LAST_SEEN_RESOLUTION.total_seconds():
        session[LAST_SEEN_KEY] = seconds
    return None


def session_ended_elsewhere_reason(*, user_id, signed_in_at: int | None) -> str | None:
    """What to tell someone whose session was ended from elsewhere (a new security stamp,
    accounts.services.user_sessions_end), when they are owed a reason: an admin's Remove
    user phone since they signed in. Their own password or phone change needs none."""
    if signed_in_at is None:
        return None
    phone_removed = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PHONE_REMOVED,
        subject_id=user_id,
        created_at__gte=datetime.fromtimestamp(signed_in_at, tz=UTC),
    )
    return PHONE_REMOVED_MESSAGE if phone_removed.exists() else None


def session_password_ended(session, user) -> bool:
    """Whether this session was signed in other than through enterprise login before
    `user`'s such sessions were ended (accounts.services.user_sessions_end with
    keep_enterprise_login). No query: `user` is the one the request has loaded."""
    ended_at = user.password_sessions_ended_at
    if ended_at is None or session.get(METHOD_KEY) == Method.SSO:
        return False
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    # The same second counts as before: a password sign-in after it is refused anyway.
    return signed_in_at is None or signed_in_at <= int(ended_at.timestamp())


class SessionLifetimeMiddleware:
    """Signs out a session past any of its limits, before the view runs.

    Placed after the authentication and message middleware: once signed out,
    LoginRequiredMiddleware sends the person to sign in and back, with the reason shown.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Read before request.user: a session whose user's sessions were all ended is
        # emptied when the user is looked up, and then no longer says whose it was.
        user_id = request.session.get(SESSION_KEY)
        signed_in_at = request.session.get(SIGNED_IN_AT_KEY)
        if request.user.is_authenticated:
            ended = (
                ENTERPRISE_LOGIN_NOW_MESSAGE
                if session_password_ended(request.session, request.user)
                else session_lifetime_check(request.session)
            )
            if ended:
                logout(request)
                messages.info(request, ended)
        elif user_id is not None:
            ended = session_ended_elsewhere_reason(user_id=user_id, signed_in_at=signed_in_at)
            if ended:
                messages.info(request, ended)
        return self.get_response(request)
