"""A member's second factors taken together: which are strong, whether a text message may
still stand in for them at sign-in, and removing them all (an admin's reset).

Strong factors resist phishing and SIM swaps better than SMS: the authenticator app and
passkeys (phishing can't take a passkey at all).
"""

from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.errors import ApplicationError
from core.queries import first_or_none, sql_column, sql_table
from mfa.authenticator import authenticator_set_up, authenticators_delete
from mfa.codes import latest_text_sql
from mfa.models import PasskeyDevice, RecoveryCode, RecoveryCodeDevice, SmsDevice
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


@cache
def _alternatives_sql() -> dict[str, str]:
    """The three questions of Alternatives as SQL, each taking the user's id: "has a passkey",
    "has a confirmed authenticator app", "has an unused recovery code".

    Written out rather than built by the ORM (Exists subqueries): every sign-in asks them
    at least twice, and building the three subqueries took the ORM some forty times longer
    than the database took to answer them (issue 12's profile). The names come from the
    models, and tests/mfa/test_factors.py holds them to the models' own queries.
    """
    column = sql_column
    passkeys, apps = sql_table(PasskeyDevice), sql_table(TOTPDevice)
    codes, devices = sql_table(RecoveryCode), sql_table(RecoveryCodeDevice)
    code_device = sql_column(RecoveryCode, "device", qualified=True)
    device_id = sql_column(RecoveryCodeDevice, "pk", qualified=True)
    # S608: only the models' own names, quoted, go into the text; the user's id is a parameter.
    return {
        "has_passkey": (
            f"EXISTS(SELECT 1 FROM {passkeys} WHERE {column(PasskeyDevice, 'user')} = %s)"  # noqa: S608
        ),
        "has_authenticator": (
            f"EXISTS(SELECT 1 FROM {apps} WHERE {column(TOTPDevice, 'user')} = %s"  # noqa: S608
            f" AND {column(TOTPDevice, 'confirmed')})"
        ),
        "has_recovery_codes": (
            f"EXISTS(SELECT 1 FROM {codes} JOIN {devices} ON {code_device} = {device_id}"  # noqa: S608
            f" WHERE {column(RecoveryCodeDevice, 'user', qualified=True)} = %s)"
        ),
    }


def _alternatives_asked(user_id: int) -> dict:
    """_alternatives_sql's questions about member `user_id`, as annotations of a query."""
    return {
        name: RawSQL(sql, [user_id])  # noqa: S611 (the text is _alternatives_sql's)
        for name, sql in _alternatives_sql().items()
    }


def _alternatives(row) -> Alternatives:
    return Alternatives(
        passkey=bool(row["has_passkey"]),
        authenticator=bool(row["has_authenticator"]),
        recovery_codes=bool(row["has_recovery_codes"]),
    )


def signin_alternatives(user) -> Alternatives:
    """Whether `user` has a passkey, an authenticator app and unused recovery codes, in one
    query (every sign-in after the password asks, and each code page links to the others)."""
    questions = _alternatives_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(questions.values())}", [user.pk] * len(questions))
        row = dict(zip(questions, cursor.fetchone(), strict=True))
    return _alternatives(row)


def signin_phone(user) -> tuple[SmsDevice | None, Alternatives]:
    """`user`'s phone on file, its `user` being `user`, and their alternatives to it: one
    query where they have a phone, as nearly everybody at the SMS step has."""
    phone = first_or_none(
        SmsDevice.objects.on_file().filter(user=user).annotate(**_alternatives_asked(user.pk))
    )
    if phone is None:
        return None, signin_alternatives(user)
    phone.user = user  # the caller's: no join to read it again
    return phone, _alternatives(vars(phone))


def pending_phone(user_id: int, *, page: bool, lock: bool = False) -> SmsDevice | None:
    """The phone that sign-in codes go to (SmsDevice.objects.reachable()) of the active
    member `user_id`, with the member (`phone.user`): the code step's one read, the member's
    included (accounts.signin.signin_pending then checks them without reading them again).

    `page`: for the code page, also their other factors (`phone.alternatives`) and how the
    latest text went (mfa.codes.code_delivery_failure). `lock`: under the phone's row lock,
    for the caller's transaction (mfa.codes.code_verify(locked=True)).
    """
    phones = SmsDevice.objects.reachable().filter(user_id=user_id, user__is_active=True)
    if page:
        phones = phones.annotate(
            **_alternatives_asked(user_id),
            **{
                name: RawSQL(sql, [])  # noqa: S611 (the text is latest_text_sql's)
                for name, sql in latest_text_sql().items()
            },
        )
    if lock:
        phones = phones.select_for_update(of=("self",))  # the phone's row, not the member's
    phone = first_or_none(phones.select_related("user"))
    if phone is not None and page:
        phone.alternatives = _alternatives(vars(phone))
    return phone


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
