"""Recovery codes: ten single-use codes that stand in for the phone or the app at sign-in.

Why our own models (mfa.models.RecoveryCodeDevice and RecoveryCode) and not django-otp's
`otp_static`: StaticToken keeps each code in plain text (a CharField of 16 characters that
StaticDevice.verify_token looks up with `token=`), so anybody who reads the database or a
backup could sign in with them, and its admin lists them. A subclass could not change that
column without a second table beside the plain one. Our device keeps django-otp's Device
API (verify_token, persistent_id, django_otp.verify_token's row lock, django_otp.login), so
a recovery code counts as the second factor wherever a code does; the codes are kept as
HMAC-SHA256 keyed with SECRET_KEY (accepted under SECRET_KEY_FALLBACKS too, so a key
rotation does not void them) and compared in constant time. A fast keyed hash and not a
password hasher: each code has 49 bits from `secrets` (no dictionary to try) and a sign-in
compares one guess with up to ten codes, which PBKDF2 would make take seconds.

A code is 10 characters from an alphabet without look-alikes (no 0/o, 1/l/i), shown as two
groups of five; typed in any case, with or without the dash or spaces.

Wrong codes count against the member's cap on wrong codes (mfa.codes.code_throttle_check),
the same per-account limit as wrong SMS codes. Each use is recorded and emailed with the
number of codes left; personal settings warn when fewer than RECOVERY_CODES_LOW remain.
"""

import secrets

import django_otp
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.emails import send_email
from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.errors import ApplicationError
from mfa import device_names
from mfa.codes import CodeError, code_throttle_check
from mfa.models import RecoveryCode, RecoveryCodeDevice, SmsDevice, recovery_code_digest

RECOVERY_CODE_COUNT = 10
RECOVERY_CODES_LOW = 3  # settings warn below this many
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10


class RecoveryCodeError(ApplicationError):
    """Why recovery codes cannot be made; `message` is shown to the member."""


def recovery_code_format(code: str) -> str:
    """A code as the member reads it: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def recovery_code_normalize(text: str) -> str | None:
    """The code that `text` spells (any case, dashes and spaces ignored), or None if it
    cannot be one."""
    code = "".join(text.split()).replace("-", "").lower()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def recovery_codes_unused(user):
    """`user`'s unused recovery codes (a used one is deleted). `user`: a member, their id, or
    an OuterRef to one (mfa.factors asks it in a subquery)."""
    return RecoveryCode.objects.filter(device__user=user)


def recovery_codes_left(user) -> int:
    """How many unused recovery codes `user` has (0 without any). One query."""
    return recovery_codes_unused(user).count()


def _email(user: User, template: str, **context) -> None:
    context = {
        "user": user,
        "at": timezone.now(),
        "settings_url": settings.SITE_URL + reverse("accounts:settings"),
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
        **context,
    }
    # Stored with the change (accounts.emails.send_email): both are kept, or neither.
    send_email(to=user.email, template=template, context=context, language=user.language)


@transaction.atomic
def recovery_codes_create(*, user: User, ip: str | None, user_agent: str) -> list[str]:
    """Make RECOVERY_CODE_COUNT new codes for `user`, replacing all earlier ones; the codes
    as the member reads them, returned this once (only their hashes are kept)."""
    # The member's row lock keeps two presses from leaving two devices or twenty codes.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if not SmsDevice.objects.on_file().filter(user=user).exists():
        raise RecoveryCodeError(
            _("Add a phone first: recovery codes come on top of it."), code="no_phone"
        )
    device, _created = RecoveryCodeDevice.objects.get_or_create(
        user=user, defaults={"name": device_names.RECOVERY_CODES, "confirmed": True}
    )
    replaced = device.codes.exists()
    device.codes.all().delete()
    codes = [
        "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=recovery_code_digest(code)) for code in codes
    )
    device.created_at = timezone.now()
    device.last_used_at = None
    device.save(update_fields=["created_at", "last_used_at"])
    security_event_record(
        kind=SecurityEvent.Kind.RECOVERY_CODES_CREATED, ip=ip, user_agent=user_agent,
        actor=user, subject=user, replaced=replaced, codes_left=RECOVERY_CODE_COUNT,
    )
    _email(user, "recovery_codes_created", replaced=replaced, count=RECOVERY_CODE_COUNT)
    return [recovery_code_format(code) for code in codes]


def recovery_code_device(user) -> RecoveryCodeDevice | None:
    """The member's recovery codes' device, if any code is left to use."""
    return (
        RecoveryCodeDevice.objects.select_related("user")
        .filter(user=user, codes__isnull=False)
        .distinct()
        .first()
    )


def recovery_code_verify(
    *, user: User, code: str, ip: str | None, user_agent: str, for_admin: bool = False
) -> RecoveryCodeDevice:
    """Return the device once `code` is one of the member's unused codes, which is then gone;
    else raise CodeError saying why. The member is emailed how many codes are left, and
    what the code was used for: signing in, or (`for_admin`) the step-up before Django
    admin."""
    device = recovery_code_device(user)
    phone = SmsDevice.objects.filter(user=user).first()
    if device is None or phone is None:
        raise CodeError(_("You have no recovery codes left."), code="no_codes")
    code_throttle_check(phone)
    # A text that cannot be a code (the form refuses it first) is checked as a wrong one.
    normalized = recovery_code_normalize(code) or ""
    with transaction.atomic():
        # The phone first, then the codes: the order that member_phone_reset locks them in.
        SmsDevice.objects.select_for_update().filter(pk=phone.pk).first()
        verified = django_otp.verify_token(user, device.persistent_id, normalized)
        if verified is not None:
            left = recovery_codes_left(user)
            security_event_record(
                kind=SecurityEvent.Kind.RECOVERY_CODE_USED, ip=ip, user_agent=user_agent,
                actor=user, subject=user, codes_left=left,
            )
            _email(
                user, "recovery_code_used",
                left=left, low=left < RECOVERY_CODES_LOW, for_admin=for_admin,
            )
            return verified
    security_event_record(
        kind=SecurityEvent.Kind.CODE_FAILED, ip=ip, user_agent=user_agent, actor=user,
        subject=user, factor="recovery",
    )
    raise CodeError(
        _("That recovery code isn't right, or it was already used. Check it and try again."),
        code="wrong",
    )


def recovery_codes_delete(*, user: User) -> bool:
    """Delete the recovery codes of `user`; whether any were left (mfa.factors)."""
    had_some = RecoveryCode.objects.filter(device__user=user).exists()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    return had_some
