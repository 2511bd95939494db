"""accounts.lockout.failure_counts, written as SQL for speed, must count what the ORM's
query of the same counts."""

import itertools
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.lockout import FailureCounts, failure_counts

pytestmark = pytest.mark.django_db

NOW = timezone.now()
EMAIL_SINCE = NOW - timedelta(hours=1)
EMAIL_AND_IP_SINCE = NOW - timedelta(minutes=15)


def _orm_counts(*, username, ip) -> FailureCounts:
    row = AccessAttempt.objects.filter(
        username=username, attempt_time__gte=min(EMAIL_SINCE, EMAIL_AND_IP_SINCE)
    ).aggregate(
        email=Sum("failures_since_start", filter=Q(attempt_time__gte=EMAIL_SINCE)),
        email_and_ip=Sum("failures_since_start", filter=Q(
            ip_address=ip, attempt_time__gte=EMAIL_AND_IP_SINCE
        )),
        attempts=Count("pk"),
    )
    return FailureCounts(
        email=row["email"] or 0, email_and_ip=row["email_and_ip"] or 0,
        attempts=row["attempts"],
    )


def _attempt(username, ip, minutes_ago, failures):
    attempt = AccessAttempt.objects.create(
        # A browser of its own each: axes keeps one row per email, IP and browser.
        username=username, ip_address=ip, user_agent=f"browser {minutes_ago}",
        path_info="/signin/", failures_since_start=failures,
    )
    # attempt_time is axes' auto_now_add: set afterwards.
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=NOW - timedelta(minutes=minutes_ago)
    )


ROWS = [  # (username, ip, minutes ago, failures)
    ("ada@example.com", "10.0.0.1", 5, 2),
    ("ada@example.com", "10.0.0.2", 10, 1),
    ("ada@example.com", "10.0.0.1", 30, 3),  # in the email's window only
    ("ada@example.com", None, 12, 4),  # axes without an IP
    ("ada@example.com", "10.0.0.1", 90, 5),  # in neither window
    ("grace@example.com", "10.0.0.1", 5, 7),  # someone else
]


@pytest.mark.parametrize("rows", [
    rows for n in range(len(ROWS) + 1) for rows in itertools.combinations(ROWS, n)
    if n in (0, 1, len(ROWS))
] + [ROWS[:3], ROWS[2:]])
@pytest.mark.parametrize("ip", ["10.0.0.1", "10.0.0.9", None])
def test_the_counts_are_the_orms(rows, ip):
    for row in rows:
        _attempt(*row)
    counted = failure_counts(
        username="ada@example.com", ip=ip,
        email_since=EMAIL_SINCE, email_and_ip_since=EMAIL_AND_IP_SINCE,
    )
    assert counted == _orm_counts(username="ada@example.com", ip=ip)


def test_all_rows_counted_where_expected():
    for row in ROWS:
        _attempt(*row)
    assert failure_counts(
        username="ada@example.com", ip="10.0.0.1",
        email_since=EMAIL_SINCE, email_and_ip_since=EMAIL_AND_IP_SINCE,
    ) == FailureCounts(email=2 + 1 + 3 + 4, email_and_ip=2, attempts=4)
