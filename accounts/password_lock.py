"""The password stops working after too many wrong ones in a row (SECURITY 6, NIST 800-63B).

Beside the 15-minute pauses of accounts.lockout, which a patient guesser just waits out,
PASSWORD_FAILURES_IN_A_ROW (settings.LIMITS) counts one account's wrong passwords, from any
IP, each within the window of the one before. At its maximum the password is locked: it is
refused even when right, until the member sets a new one with Forgot password? (any new
password unlocks it) or support unlocks it in Django admin. The member is emailed when it
locks, so that they know what to do; the sign-in page says nothing about it, and answers a
locked account exactly as an unknown email ("The email or password is incorrect.",
SECURITY 9).

Every password check goes through authenticate(), so accounts.backends.EmailBackend is the
one place that records a wrong or a right password here. The counts are single UPDATE
statements, so concurrent wrong passwords are all counted and the lock happens (and its
email goes out) once.
"""

from django.conf import settings
from django.db.models import Case, F, When
from django.urls import reverse
from django.utils import timezone

from accounts.emails import send_email_on_commit
from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.limits import limit

LIMIT = "PASSWORD_FAILURES_IN_A_ROW"


def password_locked(user: User) -> bool:
    return user.password_locked_at is not None


def password_failure_record(*, email: str, ip: str | None, user_agent: str) -> None:
    """One wrong password for `email` (normalized); locks the password at the limit.

    An email without an account changes no row, at the cost of the same one query.
    """
    rule = limit(LIMIT)
    now = timezone.now()
    rows = User.objects.filter(email=email)
    # A failure long after the one before starts a new count: the window is the most
    # time that may pass between two failures of one row.
    rows.update(
        password_failures=Case(
            When(password_failed_at__gt=rule.since(now), then=F("password_failures") + 1),
            default=1,
        ),
        password_failed_at=now,
    )
    if not rows.filter(password_locked_at=None, password_failures__gte=rule.max).update(
        password_locked_at=now
    ):
        return
    # Only the request whose UPDATE locked it gets here: one event and one email.
    user = rows.get()
    security_event_record(
        kind=SecurityEvent.Kind.PASSWORD_LOCKED, ip=ip, user_agent=user_agent, subject=user,
        failures=user.password_failures,
    )
    context = {
        "user": user,
        "failures": rule.max,
        "locked_at": now,
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    # Robust: a failure must not turn the refusal into an error page that only existing
    # accounts would get.
    send_email_on_commit(
        to=user.email, template="password_locked", context=context, language=user.language
    )


def password_success_record(user: User) -> None:
    """A right password: the count of wrong ones in a row starts again (no query at 0)."""
    if user.password_failures:
        User.objects.filter(pk=user.pk).update(password_failures=0, password_failed_at=None)
        user.password_failures, user.password_failed_at = 0, None


def password_unlock(*, user: User, actor: User | None, ip: str | None = None,
                    user_agent: str = "") -> bool:
    """The password works again (a new password was set, or support unlocked it).

    Returns whether it was locked; the count of wrong passwords starts again either way.
    """
    unlocked = User.objects.filter(pk=user.pk, password_locked_at__isnull=False).update(
        password_locked_at=None, password_failures=0, password_failed_at=None
    )
    if not unlocked:
        User.objects.filter(pk=user.pk).update(password_failures=0, password_failed_at=None)
    user.password_locked_at, user.password_failures, user.password_failed_at = None, 0, None
    if unlocked:
        security_event_record(
            kind=SecurityEvent.Kind.PASSWORD_UNLOCKED, ip=ip, user_agent=user_agent,
            actor=actor, subject=user,
        )
    return bool(unlocked)
