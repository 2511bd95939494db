"""SMS codes: made, sent, checked.

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
from mfa.models import SmsDevice
from mfa.sending import SmsNotAllowed, sms_send
from mfa.sms import SmsDeliveryError

CODE_DIGITS = 6


class CodeError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def code_digest(attempt: str, code: str) -> str:
    return salted_hmac("mfa.codes.code_digest", f"{attempt}:{code}", algorithm="sha256").hexdigest()


def code_message(code: str) -> str:
    # The last line lets browsers offer the code to the page that asked for it (WebOTP).
    domain = urlsplit(settings.SITE_URL).hostname
    return f"Your Backstage code is {code}.\n\n@{domain} #{code}"


def seconds_until_resend(device: SmsDevice) -> int:
    allowed, info = device.generate_is_allowed()
    if allowed:
        return 0
    return max(1, int((info["next_generation_at"] - timezone.now()).total_seconds()) + 1)


def code_send(*, device: SmsDevice, attempt: str, to: PhoneNumber, ip: str | None) -> None:
    """Send a fresh code for `attempt` to `to`; the previous code of the device dies."""
    user = device.user
    with transaction.atomic():
        device = SmsDevice.objects.select_for_update().get(pk=device.pk)
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
    except SmsNotAllowed as refusal:
        # Nothing went out: let them correct the number at once.
        SmsDevice.objects.filter(pk=device.pk).update(token=None, last_generated_timestamp=None)
        raise CodeError(refusal.user_message, code=refusal.code) from None
    except SmsDeliveryError as failure:
        # Nothing was delivered: no cooldown; the send limits count failed sends too.
        SmsDevice.objects.filter(pk=device.pk).update(token=None, last_generated_timestamp=None)
        raise CodeError(failure.user_message, code="delivery") from None


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
    security_event_record(
        kind=SecurityEvent.Kind.CODE_FAILED,
        ip=ip,
        user_agent=user_agent,
        actor=device.user,
        subject=device.user,
    )
    device.refresh_from_db()
    if device.token is None:
        raise CodeError("This code can no longer be used. Ask for a new code.", code="no_code")
    if timezone.now() >= device.valid_until:
        raise CodeError("This code has expired. Ask for a new code.", code="expired")
    raise CodeError("That code isn't right. Check the text message and try again.", code="wrong")
