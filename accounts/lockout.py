"""Lockout after repeated failed password checks, through django-axes.

Axes locks one email from one IP after SIGNIN_FAILURES_PER_EMAIL_AND_IP failures (in
settings.LIMITS; axes reads it as AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME). `LockoutHandler`
adds a wider limit per email across every IP (SIGNIN_FAILURES_PER_EMAIL), so that spreading
guesses over many addresses (or forging X-Forwarded-For) does not help. Both are checked
wherever a password is, since every check goes through authenticate(). The pauses end; the
lock after 100 wrong passwords in a row does not, and lives in accounts.password_lock.
"""

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.events import security_event_record
from accounts.forms import SignInForm
from accounts.models import SecurityEvent, User, normalize_email
from core.compiled import IPAddress, compiled_select
from core.http import client_of
from core.limits import duration_words, limit
from core.queries import sql_column, sql_datetime, sql_table

# For one email from one IP (axes' own limit, settings.AXES_*), then from any IP.
LIMITS = ("SIGNIN_FAILURES_PER_EMAIL_AND_IP", "SIGNIN_FAILURES_PER_EMAIL")

LOCKED_OUT_MESSAGE = (
    _("Too many failed sign-ins. For your security, signing in with this email is paused "
    "for {pause}. You can reset your password in the meantime.")
)


def lockout_pause_words() -> str:
    """How long a lockout lasts, in words: the longer window of the two limits."""
    return duration_words(max(limit(name).window for name in LIMITS))


@dataclass(frozen=True)
class FailureCounts:
    email: int  # failed sign-ins of the email since email_since
    email_and_ip: int  # of the email from the IP, since email_and_ip_since
    attempts: int  # axes' rows of the email, since the earlier of the two


def failure_counts(*, username: str, ip: str | None, email_since, email_and_ip_since):
    """Both limits' counts of one email's failures in one query: every password check
    pays for it.

    Written out, not built by the ORM (an aggregate of two filtered sums): that took the
    ORM ten times what the database took to answer, a tenth of a whole sign-in's CPU
    (issue 12's profile). tests/accounts/test_lockout_counts.py holds it to the ORM's
    query of the same.
    """
    def column(name):
        return sql_column(AccessAttempt, name)

    when = sql_datetime
    failures, at = column("failures_since_start"), column("attempt_time")
    # An unknown IP counts the rows without one, as the ORM's ip_address=None does.
    same_ip, ip_params = (
        (f"{column('ip_address')} IS NULL", []) if ip is None
        else (f"{column('ip_address')} = %s", [ip])
    )
    # S608: only the model's own names, quoted, go into the text; every value is a parameter.
    sql = (
        f"SELECT COALESCE(SUM(CASE WHEN {at} >= %s THEN {failures} END), 0),"  # noqa: S608
        f" COALESCE(SUM(CASE WHEN {same_ip} AND {at} >= %s THEN {failures} END), 0),"
        f" COUNT(*) FROM {sql_table(AccessAttempt)}"
        f" WHERE {column('username')} = %s AND {at} >= %s"
    )
    params = [
        when(email_since), *ip_params, when(email_and_ip_since),
        username, when(min(email_since, email_and_ip_since)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        email, email_and_ip, attempts = cursor.fetchone()
    return FailureCounts(email=int(email), email_and_ip=int(email_and_ip), attempts=attempts)


def username_from_request(request, credentials):
    # Axes records failures from Django's signal ("username") but checks with its own
    # credentials keyed by USERNAME_FIELD ("email"): both must give the same name.
    credentials = credentials or {}
    return normalize_email(credentials.get("username") or credentials.get("email") or "")


def _attempts_to_delete_query(username, ip, expired_before):
    # Axes' filter of the member's attempts (filter_user_attempts, for AXES_LOCKOUT_PARAMETERS
    # [["username", "ip_address"]]), or the expired ones: what user_logged_in deletes.
    members = AccessAttempt.objects.filter(username=username, ip_address=ip)
    return AccessAttempt.objects.filter(
        Q(pk__in=members.values("pk")) | Q(attempt_time__lte=expired_before)
    ).values_list("pk")[:1]


# Asked at the end of every sign-in that followed a failure (core.compiled: built once).
_attempts_to_delete = compiled_select(
    _attempts_to_delete_query, username=str, ip=IPAddress, expired_before=datetime
)


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, locking on either limit.

    Both limits count the same rows (one email's failures, each in its limit's window), so
    one query reads them: every password check pays for it. This takes the place of axes'
    own reading of AXES_LOCKOUT_PARAMETERS, which must stay [["username", "ip_address"]].
    """

    def is_locked(self, request, credentials=None) -> bool:
        # Axes' time of this attempt, which its own cool-off is counted back from.
        now = request.axes_attempt_time or timezone.now()
        email_and_ip, email = (limit(name) for name in LIMITS)
        counts = failure_counts(
            username=username_from_request(request, credentials),
            ip=request.axes_ip_address,
            email_since=email.since(now),
            email_and_ip_since=email_and_ip.since(now),
        )
        # For user_logged_in below: with none, a sign-in that follows has nothing to reset.
        request.axes_email_has_attempts = counts.attempts > 0
        return email_and_ip.reached(counts.email_and_ip) or email.reached(counts.email)

    def user_logged_in(self, sender, request, user, **kwargs):
        """Axes' bookkeeping of a sign-in, asked for in one query first.

        Axes deletes the expired attempts, then this member's (AXES_RESET_ON_SUCCESS),
        through the ORM's collector: a SELECT and an empty transaction each, even when
        there is nothing to delete, as nearly always. Its access log, the one other thing it
        does here, is off (settings). The expired ones are axes' (AXES_COOLOFF_TIME is set,
        AXES_USE_ATTEMPT_EXPIRATION is not).
        """
        if settings.AXES_DISABLE_ACCESS_LOG and not getattr(
            request, "axes_email_has_attempts", True
        ):
            # The password check of this request (is_locked) found no attempt of this email
            # in the longest window, so none of the member's to reset; and the expired
            # attempts of everybody are deleted by axes whenever a failure is recorded,
            # which is when they pile up. So no query at all on a sign-in without failures,
            # nearly every one.
            return
        credentials = get_credentials(user.get_username())
        expired_before = get_cool_off_threshold(request)
        if request.axes_ip_address:
            nothing_to_delete = not _attempts_to_delete.first(
                username=username_from_request(request, credentials),
                ip=request.axes_ip_address,
                expired_before=expired_before,
            )
        else:  # no address: axes' filter asks for IS NULL, which a compiled query can't
            members = self.filter_user_attempts(request, credentials)
            to_delete = reduce(
                operator.or_,
                (Q(pk__in=attempts.values("pk")) for attempts in members),
                Q(attempt_time__lte=expired_before),
            )
            nothing_to_delete = not AccessAttempt.objects.filter(to_delete).exists()
        if settings.AXES_DISABLE_ACCESS_LOG and nothing_to_delete:
            return
        super().user_logged_in(sender, request, user, **kwargs)


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
        {"form": form, "locked_out": LOCKED_OUT_MESSAGE.format(pause=lockout_pause_words())},
        status=429,
    )
