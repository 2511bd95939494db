"""Lockout after repeated failed password checks, through django-axes.

Axes locks one email from one IP after AXES_FAILURE_LIMIT failures. `LockoutHandler`
adds a wider limit per email across every IP (SIGNIN_FAILURES_PER_EMAIL), so that spreading
guesses over many addresses (or forging X-Forwarded-For) does not help. Both are checked
wherever a password is, since every check goes through authenticate().
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum
from django.shortcuts import render

from accounts.events import security_event_record
from accounts.forms import SignInForm
from accounts.models import SecurityEvent, User, normalize_email
from core.http import client_of

LOCKED_OUT_MESSAGE = (
    "Too many failed sign-ins. For your security, signing in with this email is paused "
    "for 15 minutes. You can reset your password in the meantime."
)


def username_from_request(request, credentials):
    # Axes records failures from Django's signal ("username") but checks with its own
    # credentials keyed by USERNAME_FIELD ("email"): both must give the same name.
    credentials = credentials or {}
    return normalize_email(credentials.get("username") or credentials.get("email") or "")


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, locking on either limit.

    Both limits count the same rows (one email's failures in the cool-off window), so one
    query reads them: every password check pays for it. This takes the place of axes' own
    reading of AXES_LOCKOUT_PARAMETERS, which must stay [["username", "ip_address"]].
    """

    def is_locked(self, request, credentials=None) -> bool:
        failures = AccessAttempt.objects.filter(
            username=username_from_request(request, credentials),
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(
            email=Sum("failures_since_start"),
            email_and_ip=Sum("failures_since_start", filter=Q(ip_address=request.axes_ip_address)),
        )
        return (failures["email_and_ip"] or 0) >= get_failure_limit(request, credentials) or (
            failures["email"] or 0
        ) >= settings.SIGNIN_FAILURES_PER_EMAIL


def lockout_record(request, email: str) -> None:
    """A refused sign-in of a locked-out email, for the member's organizations' Activity."""
    security_event_record(
        kind=SecurityEvent.Kind.SIGNIN_LOCKED,
        **client_of(request),
        actor=request.user if request.user.is_authenticated else None,
        subject=User.objects.filter(email=normalize_email(email)).first(),
    )


def lockout_response(request, original_response=None, credentials=None):
    lockout_record(request, username_from_request(request, credentials))
    # An unbound form: binding it would run authenticate() again.
    form = SignInForm(request, initial={"email": username_from_request(request, credentials)})
    return render(
        request,
        "accounts/signin.html",
        {"form": form, "locked_out": LOCKED_OUT_MESSAGE},
        status=429,
    )
