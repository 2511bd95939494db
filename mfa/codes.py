"""SMS codes: made, sent, checked, and whether the text with the code was delivered.

A code is 6 digits from `secrets`, valid MFA_CODE_VALID_FOR, used once. The device keeps
only a keyed hash of the code together with the sign-in attempt (or settings change)
it was sent for, so a code works only where it was asked for and is useless if read
from the database.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from phonenumber_field.phonenumber import PhoneNumber

from accounts.events import security_event_record
from accounts.languages import recipient_language
from accounts.models import SecurityEvent
from core.compiled import compiled_update
from core.errors import ApplicationError
from core.limits import again_words, limit
from core.queries import first_or_none
from mfa import sms
from mfa.delivery import UNDELIVERED, failure_message
from mfa.models import SmsDevice, SmsMessage, resend_cooldown_since, stored_number
from mfa.sending import sms_deliver, sms_reserve
from mfa.sms import SmsDeliveryError

CODE_DIGITS = 6


class CodeError(ApplicationError):
    """Why a code was not sent or not accepted; `message` is shown to the person."""


class PhoneOnFile(Exception):
    """code_prepare(first_phone=True) made no code: the member has a phone on file by now."""


def code_digest(attempt: str, code: str) -> str:
    return salted_hmac("mfa.codes.code_digest", f"{attempt}:{code}", algorithm="sha256").hexdigest()


def attempt_key(attempt: str) -> str:
    """What the device keeps of the attempt its code was sent for: a keyed hash, since the
    attempt itself is a secret of the member's session."""
    return salted_hmac("mfa.codes.attempt_key", attempt, algorithm="sha256").hexdigest()


def code_message(code: str, language: str = "") -> str:
    """The text with the code, in `language` (the member's; blank: this request's)."""
    with translation.override(recipient_language(language=language)):
        words = _("Your Backstage code is %(code)s.") % {"code": code}
    # The last line lets browsers offer the code to the page that asked for it (WebOTP);
    # it is never translated.
    domain = urlsplit(settings.SITE_URL).hostname
    return f"{words}\n\n@{domain} #{code}"


# An admin's Remove user phone deletes the device: a request that looked it up just before
# finds it gone and says so, rather than failing.
PHONE_REMOVED = _("Your phone was removed from your account. Sign in again to set a new one.")


def seconds_until_resend(device: SmsDevice) -> int:
    allowed, info = device.generate_is_allowed()
    if allowed:
        return 0
    return max(1, int((info["next_generation_at"] - timezone.now()).total_seconds()) + 1)


def _code_make_query(*, first_phone: bool):
    """code_prepare's UPDATE of the device: a fresh code for the attempt whose keyed hash is
    `key`, sent to `number` (as stored), only once the cooldown is over (`since`:
    resend_cooldown_since) and, for a `first_phone`, only while no phone is on file."""

    def build(pk, token, now, since, until, key, number):
        devices = SmsDevice.objects.filter(pk=pk)
        if first_phone:
            devices = devices.filter(confirmed=False)
        return devices.resend_allowed(since=since), {
            "token": token,
            "valid_until": until,
            "code_failures": 0,
            # A code for another attempt: its back-off starts from nothing, and the wrong
            # codes of the attempt before do not slow this one (the member's count goes on).
            # A plain SQL equality, which may take longer the more leading characters match:
            # safe, since both sides are keyed hashes (attempt_key), never the attempt
            # itself, so timing could tell at most a prefix of an HMAC that nobody can
            # choose or use; and it decides only whether a back-off carries on. The code is
            # compared in constant time (SmsDevice.code_check). Comparing in Python instead
            # would need a read first.
            "attempt_failures": Case(
                When(attempt_key=key, then=F("attempt_failures")), default=Value(0)
            ),
            "attempt_key": key,
            # Where this code went: a number waiting to be verified, or the one on file.
            "pending_number": Case(When(number=number, then=Value("")), default=Value(number)),
            "last_generated_timestamp": now,
        }

    return compiled_update(
        build, pk=int, token=str, now=datetime, since=datetime, until=datetime, key=str,
        number=str,
    )


# first_phone -> its UPDATE.
_code_make = {first: _code_make_query(first_phone=first) for first in (False, True)}


@dataclass(frozen=True)
class PreparedCode:
    """A code made and its text reserved (code_prepare), for code_deliver to send."""

    device: SmsDevice
    message: SmsMessage
    body: str


def code_send(*, device: SmsDevice, attempt: str, to: PhoneNumber, ip: str | None) -> None:
    """Send a fresh code for `attempt` to `to`; the previous code of the device dies.

    Raises CodeError (the cooldown), or mfa.sending's SmsNotAllowed or mfa.sms's
    SmsDeliveryError as they are: ApplicationErrors all, whose message the page shows.
    """
    with transaction.atomic():
        prepared = code_prepare(device=device, attempt=attempt, to=to, ip=ip)
    code_deliver(prepared)


def code_prepare(
    *, device: SmsDevice, attempt: str, to: PhoneNumber, ip: str | None,
    first_phone: bool = False,
) -> PreparedCode:
    """code_send's first half, in the caller's transaction: a fresh code for `attempt` made
    and its text to `to` reserved (mfa.sending.sms_reserve), or CodeError (the cooldown) or
    SmsNotAllowed raised with nothing written. Once that transaction has committed,
    code_deliver() sends it.

    A caller can add its own writes to the transaction (the sign-in's pending session,
    mfa.stages) so that they commit with the code.

    `first_phone`: only while the device has no phone on file (a first phone's code, from
    the sign-in's phone step), else PhoneOnFile is raised with nothing written. The
    database checks it on the row as it updates it, so a phone confirmed meanwhile (the
    member's other tab) is never given a new number here.
    """
    user = device.user
    now = timezone.now()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    key = attempt_key(attempt)
    # One UPDATE, made only once the cooldown is over, in place of a read under the row lock
    # and a save: the database checks the condition on the row as it locks it, so of two
    # racing sends exactly one goes, and the device is not read a second time. Compiled
    # (_code_make): the ORM took ten times longer building it than the database running it.
    made = _code_make[first_phone](
        pk=device.pk,
        token=code_digest(attempt, code),
        now=now,
        since=resend_cooldown_since(now),
        until=now + settings.MFA_CODE_VALID_FOR,
        key=key,
        number=stored_number(to),
    )
    if not made:
        device = SmsDevice.objects.filter(pk=device.pk).first()
        if device is None:
            raise CodeError(PHONE_REMOVED, code="removed")
        if first_phone and device.confirmed:
            raise PhoneOnFile
        wait = max(1, seconds_until_resend(device))
        raise CodeError(
            ngettext(
                "A code was just sent. You can ask for another in %(wait)d second.",
                "A code was just sent. You can ask for another in %(wait)d seconds.", wait,
            ) % {"wait": wait},
            code="cooldown",
        )
    # A refused text (SmsNotAllowed) rolls the new code back with it: no cooldown, so that
    # the number can be corrected at once.
    message = sms_reserve(user=user, to=to, ip=ip)
    return PreparedCode(device=device, message=message, body=code_message(code, user.language))


def code_deliver(prepared: PreparedCode) -> None:
    """code_send's second half, after code_prepare's transaction committed: the text goes
    to the provider. Raises mfa.sms's SmsDeliveryError if it fails."""
    try:
        sms_deliver(prepared.message, body=prepared.body)
    except SmsDeliveryError:
        # Nothing was delivered: no cooldown, so that they can correct the number at once
        # (the send limits count failed sends too).
        SmsDevice.objects.filter(pk=prepared.device.pk).update(
            token=None, last_generated_timestamp=None
        )
        raise


def code_delivery_failure(device: SmsDevice) -> str:
    """What to tell the person whose current code did not arrive, or "" when not known to fail.

    Only the newest message since the code was made counts: an older failure was for an
    older code. One query, and none when no code is waiting or when the device was read
    with latest_text_asked()'s answers (the code page's read: mfa.factors.signin_phone). The
    backend says what kind of failure its error code is; the words are the product's
    (mfa.delivery).
    """
    if device.last_generated_timestamp is None:
        return ""
    if "latest_text_status" in vars(device):
        status = device.latest_text_status
        latest = None if status is None else (status, device.latest_text_error)
    else:
        latest = first_or_none(
            _texts_since_code(device.user_id, device.last_generated_timestamp).values_list(
                "status", "error_code"
            )
        )
    if latest is None or latest[0] != SmsMessage.Status.FAILED:
        return ""
    return f"{UNDELIVERED} {failure_message(sms.failure_kind(latest[1]))}"


def latest_text_asked() -> dict:
    """code_delivery_failure's question as annotations of a read of SmsDevice: the status and
    error code of the member's newest text since the device's code was made (None for none,
    or no code), as "latest_text_status" and "latest_text_error", so that the code page
    reads its phone and this in one query (mfa.factors.pending_phone)."""
    latest = _texts_since_code(OuterRef("user_id"), OuterRef("last_generated_timestamp"))
    return {
        "latest_text_status": Subquery(latest.values("status")[:1]),
        "latest_text_error": Subquery(latest.values("error_code")[:1]),
    }


def _texts_since_code(user_id, since):
    """The member's texts since their code was made, newest first (of two made in the same
    instant, the later row)."""
    return SmsMessage.objects.filter(user_id=user_id, created_at__gte=since).order_by(
        "-created_at", "-pk"
    )


def code_throttled_error(until) -> CodeError:
    """The back-off after wrong codes (an SMS code's or an authenticator app's), until
    `until`."""
    wait = int((until - timezone.now()).total_seconds()) + 1
    return CodeError(
        ngettext(
            "Too many wrong codes. Wait %(wait)d second, then try again.",
            "Too many wrong codes. Wait %(wait)d seconds, then try again.", wait,
        ) % {"wait": wait},
        code="throttled",
    )


def _wrong_codes_limit_error() -> CodeError:
    window = limit("SMS_CODE_FAILURES_PER_USER").window
    return CodeError(
        _("Too many wrong codes were entered for your account. For your security, codes "
          "are paused: try again %(again)s.") % {"again": again_words(window)},
        code="limit",
    )


def code_throttle_check(device: SmsDevice) -> None:
    """Raise CodeError while the member's cap on wrong codes holds.

    The phone's counter is the member's one limit on wrong codes: SMS codes
    (SmsDevice.code_check) and recovery codes (mfa.models.RecoveryCodeDevice) both count
    against it, so neither kind of code gets guesses of its own. Recovery codes have no
    back-off besides: they are long and random, and a back-off on the member's counter
    would let someone else's wrong codes hold the member back.
    """
    if device.wrong_codes_capped_until(timezone.now()) is not None:
        raise _wrong_codes_limit_error()


def code_verify(
    *, device: SmsDevice, attempt: str, code: str, ip: str | None, user_agent: str,
    locked: bool = False,
) -> SmsDevice:
    """Return the device once `code` is right for `attempt`; else raise CodeError saying why.

    The device row is locked while the code is checked, so of two requests racing with the
    same code exactly one wins, and racing wrong codes are all counted. The back-off is the
    attempt's and the cap the member's (SmsDevice.code_check): wrong codes typed in another
    session of the member slow down that session only.

    `locked`: the caller read `device` under its row lock in its transaction, still open
    (the sign-in's code step: SmsDevice.objects.select_for_update()), so it is not read
    again. Outside a transaction that lock is gone, and the row is read again.
    """
    held = locked and transaction.get_connection().in_atomic_block  # before the block's own
    # No savepoint of its own inside a caller's transaction (the code step signs in within
    # one): nothing in the block raises but the database itself.
    with transaction.atomic(savepoint=False):
        if held:
            row = device
        else:
            row = first_or_none(SmsDevice.objects.select_for_update().filter(pk=device.pk))
        if row is None:
            # Gone meanwhile (an admin removed the phone): not a wrong code, and nothing to
            # count it against.
            raise CodeError(PHONE_REMOVED, code="removed")
        row.user = device.user  # the caller's: no join to read the member again
        verdict, until = row.code_check(
            attempt_key=attempt_key(attempt), token=code_digest(attempt, code)
        )
    if verdict == "ok":
        return row
    if verdict == "limit":
        raise _wrong_codes_limit_error()
    if verdict == "throttled":
        raise code_throttled_error(until)
    security_event_record(
        kind=SecurityEvent.Kind.CODE_FAILED,
        ip=ip,
        user_agent=user_agent,
        actor=device.user,
        subject=device.user,
    )
    if verdict == "no_code" or (verdict == "wrong" and row.token is None):
        raise CodeError(_("This code can no longer be used. Ask for a new code."), code="no_code")
    if verdict == "expired":
        raise CodeError(_("This code has expired. Ask for a new code."), code="expired")
    # Wrong, or typed into an attempt that the current code was not sent for.
    raise CodeError(_("That code isn't right. Check the text message and try again."), code="wrong")
