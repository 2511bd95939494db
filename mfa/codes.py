"""SMS codes: made, sent, checked, and whether the text with the code was delivered.

A code is 6 digits from `secrets`, valid MFA_CODE_VALID_FOR, used once. The device keeps
only a keyed hash of the code together with the sign-in attempt (or settings change)
it was sent for, so a code works only where it was asked for and is useless if read
from the database.
"""

import secrets
from urllib.parse import urlsplit

import django_otp
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from phonenumber_field.phonenumber import PhoneNumber

from accounts.events import security_event_record
from accounts.models import SecurityEvent
from core.errors import ApplicationError
from mfa import sms
from mfa.delivery import UNDELIVERED, failure_message
from mfa.models import SmsDevice, SmsMessage
from mfa.sending import SmsNotAllowed, sms_send
from mfa.sms import SmsDeliveryError

CODE_DIGITS = 6


class CodeError(ApplicationError):
    """Why a code was not sent or not accepted; `message` is shown to the person."""


def code_digest(attempt: str, code: str) -> str:
    return salted_hmac("mfa.codes.code_digest", f"{attempt}:{code}", algorithm="sha256").hexdigest()


def code_message(code: str) -> str:
    # The last line lets browsers offer the code to the page that asked for it (WebOTP).
    domain = urlsplit(settings.SITE_URL).hostname
    return f"Your Backstage code is {code}.\n\n@{domain} #{code}"


# An admin's Remove user phone deletes the device: a request that looked it up just before
# finds it gone and says so, rather than failing.
PHONE_REMOVED = "Your phone was removed from your account. Sign in again to set a new one."


def _locked(device: SmsDevice) -> SmsDevice:
    """`device` read again under a row lock; CodeError if it was deleted meanwhile."""
    locked = SmsDevice.objects.select_for_update().filter(pk=device.pk).first()
    if locked is None:
        raise CodeError(PHONE_REMOVED, code="removed")
    return locked


def seconds_until_resend(device: SmsDevice) -> int:
    allowed, info = device.generate_is_allowed()
    if allowed:
        return 0
    return max(1, int((info["next_generation_at"] - timezone.now()).total_seconds()) + 1)


def code_send(*, device: SmsDevice, attempt: str, to: PhoneNumber, ip: str | None) -> None:
    """Send a fresh code for `attempt` to `to`; the previous code of the device dies.

    Raises CodeError (the cooldown), or mfa.sending's SmsNotAllowed or mfa.sms's
    SmsDeliveryError as they are: ApplicationErrors all, whose message the page shows.
    """
    user = device.user
    with transaction.atomic():
        device = _locked(device)
        wait = seconds_until_resend(device)
        if wait:
            raise CodeError(
                f"A code was just sent. You can ask for another in {wait} seconds.",
                code="cooldown",
            )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        device.token = code_digest(attempt, code)
        device.valid_until = timezone.now() + settings.MFA_CODE_VALID_FOR
        device.code_failures = 0
        # Where this code went: a number waiting to be verified, or the one on file.
        device.pending_number = "" if to == device.number else to
        device.cooldown_set(commit=False)
        device.save(
            update_fields=[
                "token",
                "valid_until",
                "code_failures",
                "pending_number",
                "last_generated_timestamp",
            ]
        )
    try:
        sms_send(user=user, to=to, body=code_message(code), ip=ip)
    except (SmsNotAllowed, SmsDeliveryError):
        # Nothing went out, or nothing was delivered: no cooldown, so that they can correct
        # the number at once (the send limits count failed sends too).
        SmsDevice.objects.filter(pk=device.pk).update(token=None, last_generated_timestamp=None)
        raise


def code_delivery_failure(device: SmsDevice) -> str:
    """What to tell the person whose current code did not arrive, or "" when not known to fail.

    Only the newest message since the code was made counts: an older failure was for an
    older code. One query, and none when no code is waiting. The backend says what kind
    of failure its error code is; the words are the product's (mfa.delivery).
    """
    if device.last_generated_timestamp is None:
        return ""
    latest = (
        SmsMessage.objects.filter(
            user_id=device.user_id, created_at__gte=device.last_generated_timestamp
        )
        .order_by("-created_at", "-pk")
        .values_list("status", "error_code")
        .first()
    )
    if latest is None or latest[0] != SmsMessage.Status.FAILED:
        return ""
    return f"{UNDELIVERED} {failure_message(sms.failure_kind(latest[1]))}"


def code_verify(
    *, device: SmsDevice, attempt: str, code: str, ip: str | None, user_agent: str
) -> SmsDevice:
    """Return the device once `code` is right for `attempt`; else raise CodeError saying why.

    django_otp.verify_token locks the device row, so of two requests racing with the
    same code exactly one wins.
    """
    allowed, info = device.verify_is_allowed()
    if not allowed:
        wait = int((info["locked_until"] - timezone.now()).total_seconds()) + 1
        raise CodeError(
            f"Too many wrong codes. Wait {wait} seconds, then try again.", code="throttled"
        )
    digest = code_digest(attempt, code)
    verified = django_otp.verify_token(device.user, device.persistent_id, digest)
    if verified is not None:
        return verified
    if not SmsDevice.objects.filter(pk=device.pk).exists():
        # Not a wrong code: django-otp found no device to check it against.
        raise CodeError(PHONE_REMOVED, code="removed")
    security_event_record(
        kind=SecurityEvent.Kind.CODE_FAILED,
        ip=ip,
        user_agent=user_agent,
        actor=device.user,
        subject=device.user,
    )
    device = SmsDevice.objects.filter(pk=device.pk).first()
    if device is None:
        raise CodeError(PHONE_REMOVED, code="removed")
    if device.token is None:
        raise CodeError("This code can no longer be used. Ask for a new code.", code="no_code")
    if timezone.now() >= device.valid_until:
        raise CodeError("This code has expired. Ask for a new code.", code="expired")
    raise CodeError("That code isn't right. Check the text message and try again.", code="wrong")
