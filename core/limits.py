"""Every limit of the product in one shape, and the words for a length of time.

A limit is at most `max` events within `window`. They are all set in one place,
settings.LIMITS (backstage/settings.py, from the environment where the README says so),
as {"window": timedelta, "max": int}, and read here only: `limit(name)`. Each rule still
counts its own rows (SMS sends, invitation emails, reset requests, axes' failures,
unanswered enterprise sign-ins); `Limit.since` is where its window starts and
`Limit.reached` whether its count is at the maximum, and `limit_reached` does both for a
queryset. Words for a duration ("14 days", "15 minutes", "tomorrow") come from
`duration_words` and `again_words`, so the pages say what the settings are.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext


@dataclass(frozen=True)
class Limit:
    window: timedelta
    max: int

    def since(self, now: datetime | None = None) -> datetime:
        """Where the window that ends `now` starts; only events after it count."""
        return (now or timezone.now()) - self.window

    def reached(self, count: int) -> bool:
        """Whether `count` events within the window leave no room for one more."""
        return count >= self.max


def limit(name: str) -> Limit:
    """The limit called `name` in settings.LIMITS; a name not there is a bug (KeyError)."""
    return Limit(**settings.LIMITS[name])


def limit_reached(name: str, rows: QuerySet, *, now: datetime | None = None,
                  field: str = "created_at") -> bool:
    """Whether `rows` made after the start of the window (their `field`) reach the limit."""
    rule = limit(name)
    return rule.reached(rows.filter(**{f"{field}__gt": rule.since(now)}).count())


def duration_words(length: timedelta, *, article: bool = True) -> str:
    """'15 minutes', 'an hour', '24 hours', '14 days': a length the way a page says it.

    Days only from two days on, so that a day-long window reads "24 hours" as it always
    has. Without the article, one unit is just its name ("in the last hour").
    """
    minutes = int(length.total_seconds() // 60)
    if minutes < 60 or minutes % 60:
        count, unit = minutes, "minute"
    elif minutes < 48 * 60 or minutes % (24 * 60):
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes // (24 * 60), "day"
    # Each wording whole, so that a translation can inflect it (plural forms, articles).
    if count != 1:
        return {
            "minute": ngettext("%(count)d minute", "%(count)d minutes", count),
            "hour": ngettext("%(count)d hour", "%(count)d hours", count),
            "day": ngettext("%(count)d day", "%(count)d days", count),
        }[unit] % {"count": count}
    if not article:
        return {
            # Translators: one unit, where English drops the article: "(invitations) in
            # the last {window}". A language that keeps it there writes it ("en une heure").
            "minute": pgettext("duration without article", "minute"),
            "hour": pgettext("duration without article", "hour"),
            "day": pgettext("duration without article", "day"),
        }[unit]
    return {
        "minute": gettext("a minute"), "hour": gettext("an hour"), "day": gettext("a day"),
    }[unit]


def again_words(window: timedelta) -> str:
    """'in an hour', 'in 10 minutes', 'tomorrow': when a window of this length has passed."""
    if timedelta(days=1) <= window < timedelta(days=2):
        return gettext("tomorrow")
    return gettext("in %(duration)s") % {"duration": duration_words(window)}
