"""A member's second factors taken together: which are strong, whether a text message may
still stand in for them at sign-in, and removing them all (an admin's reset).

Strong factors resist phishing and SIM swaps better than SMS: the authenticator app and
passkeys (phishing can't take a passkey at all).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.errors import ApplicationError
from mfa.authenticator import authenticator_set_up, authenticators_delete
from mfa.models import PasskeyDevice, RecoveryCode, SmsDevice
from mfa.passkeys import passkey_set_up, passkeys_delete
from mfa.recovery import recovery_codes_delete

SMS_FALLBACK_OFF = (
    _("You turned off codes by text message for signing in. Use your passkey, your "
    "authenticator app or a recovery code.")
)


class FactorError(ApplicationError):
    """Why a change to the second factors cannot be made; `message` is shown."""


def strong_factor_set_up(user) -> bool:
    """Whether `user` has a factor stronger than SMS: an authenticator app or a passkey.
    The one answer to "may they turn the text-message fallback off?"."""
    return authenticator_set_up(user) or passkey_set_up(user)


@dataclass(frozen=True)
class Alternatives:
    """The ways through a sign-in's second-factor step that a member has besides SMS."""

    passkey: bool
    authenticator: bool
    recovery_codes: bool

    @property
    def strong_step(self) -> str | None:
        """The sign-in step of the strongest factor: a passkey first (phishing can't take
        it), then the app; None with neither (SMS, then)."""
        if self.passkey:
            return "mfa:passkey"
        if self.authenticator:
            return "mfa:authenticator"
        return None


def _alternatives_exist(user) -> dict:
    """Whether `user` (a user or a reference to one, OuterRef) has a passkey, an
    authenticator app and unused recovery codes, as annotations."""
    return {
        "has_passkey": Exists(PasskeyDevice.objects.filter(user=user)),
        "has_authenticator": Exists(TOTPDevice.objects.filter(user=user, confirmed=True)),
        "has_recovery_codes": Exists(RecoveryCode.objects.filter(device__user=user)),
    }


def _alternatives(row) -> Alternatives:
    return Alternatives(
        passkey=row["has_passkey"],
        authenticator=row["has_authenticator"],
        recovery_codes=row["has_recovery_codes"],
    )


def signin_alternatives(user) -> Alternatives:
    """Whether `user` has a passkey, an authenticator app and unused recovery codes, in one
    query (every sign-in after the password asks, and each code page links to the others)."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(**_alternatives_exist(OuterRef("pk")))
        .values("has_passkey", "has_authenticator", "has_recovery_codes")
        .first()
    ) or {"has_passkey": False, "has_authenticator": False, "has_recovery_codes": False}
    return _alternatives(row)


def signin_phone(user, *, reachable: bool = False) -> tuple[SmsDevice | None, Alternatives]:
    """`user`'s phone on file (or, `reachable`, also one waiting for its first code: SmsDevice
    .objects.reachable()) with their user, and their alternatives to it: one query where
    they have a phone, as nearly everybody at the SMS step has."""
    phones = SmsDevice.objects.reachable() if reachable else SmsDevice.objects.on_file()
    phone = (
        phones.filter(user=user).select_related("user")
        .annotate(**_alternatives_exist(OuterRef("user_id"))).first()
    )
    if phone is None:
        return None, signin_alternatives(user)
    return phone, _alternatives(phone.__dict__)


def sms_signin_allowed(phone: SmsDevice) -> bool:
    """Whether a sign-in may send a code to `phone` (the member's phone on file).

    Always, unless the member turned the fallback off, and then only while they have a
    strong factor: with the app removed, SMS is their way in again. No query while the
    fallback is on, as it is for nearly everyone.
    """
    return phone.sms_fallback or not strong_factor_set_up(phone.user)


@transaction.atomic
def sms_fallback_set(*, user: User, on: bool, ip: str | None, user_agent: str) -> None:
    """Turn the text-message fallback of `user`'s sign-ins on or off."""
    phone = SmsDevice.objects.on_file().select_for_update().filter(user=user).first()
    if phone is None:
        raise FactorError(_("Add a phone first."), code="no_phone")
    if not on and not strong_factor_set_up(user):
        raise FactorError(
            _("Set up an authenticator app first (or add a passkey): without text messages it "
            "is your way to sign in."),
            code="no_strong_factor",
        )
    if phone.sms_fallback == on:
        return
    phone.sms_fallback = on
    phone.save(update_fields=["sms_fallback"])
    security_event_record(
        kind=SecurityEvent.Kind.SMS_FALLBACK_ON if on else SecurityEvent.Kind.SMS_FALLBACK_OFF,
        ip=ip, user_agent=user_agent, actor=user, subject=user,
    )


def second_factors_remove(*, user: User) -> dict[str, bool]:
    """Delete every second factor of `user`: the phone, the authenticator app, the passkeys
    and the recovery codes. Call it inside the caller's transaction, with the phone's row
    locked first (organizations.members.member_phone_reset).

    Returns what was removed besides the phone, for the security event and the email.
    """
    SmsDevice.objects.filter(user=user).delete()
    return {
        "authenticator_removed": authenticators_delete(user=user),
        "passkeys_removed": passkeys_delete(user=user) > 0,
        "recovery_codes_removed": recovery_codes_delete(user=user),
    }
