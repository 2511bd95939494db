"""The one way to send a text message: check the allow-list and the limits, record, send.

The limits and the country allow-list keep the SMS bill from being pumped (SECURITY.md
item 15): they are checked before anything is written or sent, and every attempt is
recorded in mfa.models.SmsMessage, failed ones included, because a failed send costs
money too and is what a probe of number ranges looks like.
"""

import logging
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from phonenumbers import geocoder

from core.compiled import compiled_insert, compiled_update, saved
from core.errors import ApplicationError
from core.limits import again_words, duration_words, limit
from core.queries import sql_column, sql_datetime, sql_table
from mfa import sms
from mfa.models import SmsLimitKey, SmsMessage

logger = logging.getLogger(__name__)

# What is limited -> (SmsNotAllowed.code, what was exceeded, in words).
LIMITS = {
    "user": ("limit-user", _("You have asked for too many codes.")),
    "number": ("limit-number", _("Too many codes were sent to this number.")),
    "number_block": (
        "limit-number-block", _("Too many codes were sent to numbers like this one.")
    ),
    "ip": ("limit-ip", _("Too many codes were asked for from your network.")),
}
# What is limited -> its limits in settings.LIMITS (core.limits), within an hour and a day.
LIMIT_NAMES = {
    kind: (f"SMS_PER_{kind.upper()}_HOUR", f"SMS_PER_{kind.upper()}_DAY") for kind in LIMITS
}


class SmsNotAllowed(ApplicationError):
    """The message may not be sent: the country is not allowed, or a limit is reached."""


def sms_send(*, user, to, body: str, ip: str | None) -> SmsMessage:
    """Send `body` to the number `to` for `user`, and return the SmsMessage row.

    Raises SmsNotAllowed (nothing written, nothing sent) or, after recording the failed
    attempt, the backend's mfa.sms.SmsDeliveryError.
    """
    e164 = phonenumbers.format_number(to, phonenumbers.PhoneNumberFormat.E164)
    _check_country(to, e164)  # before any query
    with transaction.atomic():
        row = _reserve(user=user, e164=e164, ip=ip)
    return sms_deliver(row, body=body)


def sms_reserve(*, user, to, ip: str | None) -> SmsMessage:
    """Check the allow-list and the limits of a text to `to`, and write its pending row;
    raise SmsNotAllowed (nothing written) if it may not go. Then sms_deliver() sends it.

    Call it in a short transaction of the caller's, which holds the locks of the keys it
    counts for (SmsLimitKey) until it ends, so that racing requests count one after the
    other and a limit is never overshot; a refusal undoes the caller's writes in it too
    (mfa.codes.code_prepare makes its code in it).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sms_reserve() holds its locks in the caller's transaction")
    e164 = phonenumbers.format_number(to, phonenumbers.PhoneNumberFormat.E164)
    _check_country(to, e164)
    return _reserve(user=user, e164=e164, ip=ip)


def sms_deliver(row: SmsMessage, *, body: str) -> SmsMessage:
    """Hand the text of `row` (sms_reserve's) to the provider, after the reserving
    transaction committed: none stays open across the provider's call, and the row
    outlives an error the caller shows."""
    e164 = row.to.as_e164
    try:
        provider_id = sms.get_backend().send(sms.SmsMessage(to=e164, body=body))
    except sms.SmsDeliveryError as exc:
        _record_failure(row, e164, exc.code)
        raise
    except Exception:
        # A bug or a broken backend: still record that this attempt went nowhere.
        _record_failure(row, e164, "backend-error")
        raise
    row.status = SmsMessage.Status.SENT
    row.provider_id = provider_id[: SmsMessage._meta.get_field("provider_id").max_length]
    # row.save(update_fields=["status", "provider_id"]), compiled (_message_sent).
    saved(SmsMessage, _message_sent(pk=row.pk, status=row.status, provider_id=row.provider_id))
    logger.info("SMS %s to %s (sms message %s)", row.status, _masked(e164), row.pk)
    return row


def _check_country(to, e164: str) -> None:
    region = phonenumbers.region_code_for_number(to)
    if region in settings.SMS_ALLOWED_COUNTRIES:
        return
    country = geocoder.country_name_for_number(to, get_language())
    if country:
        message = _("Text messages can't be sent to numbers in %(country)s yet. Contact your "
                    "organization admin.") % {"country": country}
    else:
        message = _("Text messages can't be sent to this number yet. Contact your "
                    "organization admin.")
    _refuse("country", message, e164)


def _reserve(*, user, e164: str, ip: str | None) -> SmsMessage:
    """Lock the keys of this send, check the limits and write its (pending) row."""
    keys = sorted(
        f"{kind}:{value}"
        for kind, value in (
            ("user", user.pk if user is not None else None),
            ("number", e164),
            ("block", _block(e164)),
            ("ip", ip),
        )
        if value is not None and value != ""
    )
    # One upsert both makes the keys that are new and locks them all (INSERT ... ON
    # CONFLICT DO UPDATE locks the rows it meets), in one sorted order for everybody, so
    # that two sends never wait for each other's locks. On SQLite this first write takes
    # the database's write lock: there too the count below cannot interleave with another.
    # It also marks the keys as used now, which keeps them from sms_limit_keys_prune.
    now = timezone.now()
    _keys_upsert.many([SmsLimitKey(key=key, last_used_at=now) for key in keys])
    _check_limits(user=user, e164=e164, ip=ip, now=now)
    return _message_insert(SmsMessage(user=user, to=e164, ip_address=ip, created_at=now))


# The writes of every text, compiled (core.compiled): the ORM spent several times longer
# building them than the database took to run them. Without save()'s signals, which nobody
# receives for these two models (no pre_save or post_save receiver, ours or a library's).
# bulk_create(update_conflicts=True, unique_fields=["key"], update_fields=["last_used_at"]):
_keys_upsert = compiled_insert(SmsLimitKey, unique_fields=["key"], update_fields=["last_used_at"])
_message_insert = compiled_insert(SmsMessage)
_message_sent = compiled_update(
    lambda pk, status, provider_id: (
        SmsMessage.objects.filter(pk=pk), {"status": status, "provider_id": provider_id}
    ),
    pk=int, status=str, provider_id=str,
)


def sms_limit_keys_prune() -> int:
    """Delete the limit keys that no send has used within the longest of the SMS_PER_*
    windows (manage.py sms_limits_prune); returns how many.

    Such a key has no message inside any window, so it counts nothing, and the next send
    for it makes it again. Safe beside sends: the limits are counted from SmsMessage rows,
    which stay; and the DELETE, one statement with its condition, takes each row's lock.
    A send that holds a key (from its upsert to its commit) makes the DELETE wait, and
    PostgreSQL then checks the condition again on the row the send wrote, freshly used,
    so that row stays. A send that comes after the DELETE makes the key again, waiting
    for the DELETE's commit first, so two sends of one key still count one after the other.
    """
    # One DELETE with its WHERE, as long as nothing cascades from the model or listens for
    # its deletes (Django reads the rows first otherwise, and deletes by primary key).
    deleted, _ = SmsLimitKey.objects.filter(
        last_used_at__lt=timezone.now() - _longest_limit_window()
    ).delete()
    return deleted


def sms_messages_read_for() -> timedelta:
    """The longest that any rule reads a text's row after it was made: the SMS_PER_*
    windows that the sends count it in (sms_limit_counts), and the life of its code, while
    the code page shows whether the text failed (mfa.codes.code_delivery_failure). The
    Twilio webhook's late reports find an older row gone and change nothing."""
    return max(_longest_limit_window(), settings.MFA_CODE_VALID_FOR)


def sms_messages_kept_for() -> timedelta:
    """How long SmsMessage rows are kept, settings.SMS_MESSAGES_KEPT_FOR; ImproperlyConfigured
    when that is shorter than sms_messages_read_for(): a prune would then delete rows that
    a limit still counts, and let more texts through than it allows. mfa.checks refuses it
    at start-up (manage.py check, migrate, runserver, scripts/serve), the prune here too."""
    kept_for, read_for = settings.SMS_MESSAGES_KEPT_FOR, sms_messages_read_for()
    if kept_for < read_for:
        raise ImproperlyConfigured(
            f"SMS_MESSAGES_KEPT_FOR ({duration_words(kept_for)}) is shorter than the longest "
            f"time that the SMS limits and codes read the record of a text "
            f"({duration_words(read_for)}): set SMS_MESSAGES_KEPT_DAYS to at least "
            f"{-(-read_for // timedelta(days=1))}."
        )
    return kept_for


# Rows per DELETE of sms_messages_prune: each statement locks and writes only so many, and
# commits on its own, so that a first prune of a large table never holds it for long.
PRUNE_BATCH = 1000


def sms_messages_prune(*, batch: int = PRUNE_BATCH) -> int:
    """Delete the SmsMessage rows made more than sms_messages_kept_for() ago, oldest first
    and `batch` rows per statement (manage.py sms_limits_prune); returns how many.

    Safe beside sends and delivery reports: nothing counts or reads rows that old (see
    sms_messages_read_for), so no lock of a send's is in the way. Outside a transaction
    (the command's autocommit) each batch commits by itself.
    """
    before = timezone.now() - sms_messages_kept_for()
    total = 0
    while True:
        # DELETE ... WHERE id IN (SELECT id ... ORDER BY created_at LIMIT batch): one
        # statement per batch (SQLite and PostgreSQL take a LIMIT in the subquery), the
        # fast delete of a model that nothing cascades from or listens to.
        oldest = (
            SmsMessage.objects.filter(created_at__lt=before).order_by("created_at", "pk")
            .values("pk")[:batch]
        )
        deleted, _ = SmsMessage.objects.filter(pk__in=oldest).delete()
        total += deleted
        if deleted < batch:
            return total


def _longest_limit_window() -> timedelta:
    """The longest of the SMS_PER_* windows: older texts count towards no limit."""
    return max(limit(name).window for names in LIMIT_NAMES.values() for name in names)


def _block(e164: str) -> str:
    """The block of 100 adjacent numbers that `e164` is in."""
    return e164[:-2]


def _check_limits(*, user, e164: str, ip: str | None, now) -> None:
    """Refuse when any of the SMS_PER_* limits is reached, reading in one query."""
    counts = sms_limit_counts(user=user, e164=e164, ip=ip, now=now)
    reached = [(rule.window, kind) for (kind, rule), count in counts.items() if rule.reached(count)]
    if reached:
        # The longest window reached is the honest answer to "when can I try again?".
        window, kind = max(reached, key=lambda hit: hit[0])
        code, what = LIMITS[kind]
        _refuse(code, _("%(what)s Try again %(again)s.") % {
            "what": what, "again": again_words(window),
        }, e164)


def sms_limit_counts(*, user, e164: str, ip: str | None, now) -> dict:
    """The texts that count towards each SMS_PER_* limit of a send to `e164` for `user` from
    `ip`: {(kind, Limit): count}, in one query.

    The same member, number, block of 100 adjacent numbers and client IP. A member or an
    IP that is unknown (None) limits nothing, rather than matching every other unknown one.
    Written out, not built by the ORM: the ORM spent several times longer building its
    query than the database did answering it, on every text sent (issue 12's profile);
    tests/mfa/test_sending.py holds it to the rows the ORM reads.
    """
    def column(name):
        return sql_column(SmsMessage, name)

    matches = {
        "user": (f"{column('user')} = %s", user.pk) if user is not None else None,
        "number": (f"{column('to')} = %s", e164),
        "number_block": (f"{column('to')} LIKE %s", f"{_block(e164)}%"),
        "ip": (f"{column('ip_address')} = %s", ip) if ip else None,
    }
    matches = {kind: match for kind, match in matches.items() if match is not None}
    limits = [(kind, limit(name)) for kind in matches for name in LIMIT_NAMES[kind]]
    at, when = column("created_at"), sql_datetime
    counted, params = [], []
    for kind, rule in limits:
        condition, value = matches[kind]
        counted.append(f"COALESCE(SUM(CASE WHEN {at} > %s AND {condition} THEN 1 END), 0)")
        params += [when(rule.since(now)), value]
    # S608: only the model's own names, quoted, go into the text; every value is a parameter.
    sql = (
        f"SELECT {', '.join(counted)} FROM {sql_table(SmsMessage)}"  # noqa: S608
        f" WHERE ({' OR '.join(condition for condition, _ in matches.values())})"
        f" AND {at} > %s"
    )
    params += [value for _, value in matches.values()]
    params.append(when(now - max(rule.window for _, rule in limits)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return {limit_: int(count) for limit_, count in zip(limits, row, strict=True)}


def _refuse(code: str, message: str, e164: str):
    logger.warning("SMS refused (%s) to %s", code, _masked(e164))
    raise SmsNotAllowed(message, code=code)


def _record_failure(row: SmsMessage, e164: str, code: str) -> None:
    row.status = SmsMessage.Status.FAILED
    row.error_code = code[: SmsMessage._meta.get_field("error_code").max_length]
    row.save(update_fields=["status", "error_code"])
    logger.warning(
        "SMS %s to %s, error %s (sms message %s)",
        row.status,
        _masked(e164),
        row.error_code,
        row.pk,
    )


def _masked(e164: str) -> str:
    return "*" * (len(e164) - 2) + e164[-2:]
