"""Lockout after repeated failed sign-ins, on top of django-axes.

Axes locks one email from one IP after AXES_FAILURE_LIMIT failures. `email_locked_out`
adds a wider limit per email across every IP, so that spreading guesses over many
addresses (or forging X-Forwarded-For) does not help.
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from accounts.events import security_event_record
from accounts.models import SecurityEvent, User, normalize_email

LOCKED_OUT_MESSAGE = (
    "Too many failed sign-ins. For your security, signing in with this email is paused "
    "for 15 minutes. You can reset your password in the meantime."
)


def username_from_request(request, credentials):
    # Axes records failures from Django's signal ("username") but checks with its own
    # credentials keyed by USERNAME_FIELD ("email"): both must give the same name.
    credentials = credentials or {}
    return normalize_email(credentials.get("username") or credentials.get("email") or "")


def email_locked_out(email: str) -> bool:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(
        username=normalize_email(email), attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return (failures or 0) >= settings.SIGNIN_FAILURES_PER_EMAIL


def lockout_record(request, email: str) -> None:
    """A refused sign-in of a locked-out email, for the member's organizations' Activity."""
    security_event_record(
        kind=SecurityEvent.Kind.SIGNIN_LOCKED,
        request=request,
        subject=User.objects.filter(email=normalize_email(email)).first(),
    )


def lockout_response(request, original_response=None, credentials=None):
    from accounts.forms import SignInForm

    lockout_record(request, username_from_request(request, credentials))
    # An unbound form: binding it would run authenticate() again.
    form = SignInForm(request, initial={"email": username_from_request(request, credentials)})
    return render(
        request,
        "accounts/signin.html",
        {"form": form, "locked_out": LOCKED_OUT_MESSAGE},
        status=429,
    )
