"""A member's second factors taken together: which are strong, whether a text message may
still stand in for them at sign-in, and removing them all (an admin's reset).

Strong factors resist phishing and SIM swaps better than SMS: the authenticator app and
passkeys (phishing can't take a passkey at all).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.compiled import columns, compiled_select, model_from_row
from core.errors import ApplicationError
from mfa.authenticator import (
    authenticator_set_up,
    authenticators_confirmed,
    authenticators_delete,
)
from mfa.codes import latest_text_asked
from mfa.models import SmsDevice
from mfa.passkeys import passkey_set_up, passkeys_delete, passkeys_of
from mfa.recovery import recovery_codes_delete, recovery_codes_unused

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


_ASKED = ("has_passkey", "has_authenticator", "has_recovery_codes")


def _alternatives_asked(user) -> dict:
    """The three questions of Alternatives about `user` (an id or an OuterRef to one), as
    annotations named _ASKED, each the rule's own query in an EXISTS: "has a passkey", "has a
    confirmed authenticator app", "has an unused recovery code"."""
    rules = (passkeys_of, authenticators_confirmed, recovery_codes_unused)
    return {name: Exists(rule(user)) for name, rule in zip(_ASKED, rules, strict=True)}


def _alternatives(answers) -> Alternatives:
    """Alternatives from _alternatives_asked's answers, in its order."""
    passkey, authenticator, recovery_codes = answers
    return Alternatives(bool(passkey), bool(authenticator), bool(recovery_codes))


# Every sign-in after the password asks, and each code page links to the others: built by
# the ORM once (core.compiled), as the phone reads below that ask it too.
_member_alternatives = compiled_select(
    lambda user_id: User.objects.filter(pk=user_id)
    .annotate(**_alternatives_asked(OuterRef("pk")))
    .values_list(*_ASKED),
    user_id=int,
)


def signin_alternatives(user) -> Alternatives:
    """Whether `user` has a passkey, an authenticator app and unused recovery codes, in one
    query."""
    return _alternatives(_member_alternatives.first(user_id=user.pk) or (False, False, False))


def _phone_read(phones, user_id: int, *, alternatives: bool, text: bool, member: bool, lock: bool):
    """The query of member `user_id`'s phone among `phones`, with all its columns, then, as
    asked: the member's other factors, how the latest text went, the member's columns
    (`member`, who must be active), and the phone's row lock."""
    phones = phones.filter(user_id=user_id)
    extra = {}
    if alternatives:
        extra |= _alternatives_asked(OuterRef("user_id"))
    if text:
        extra |= latest_text_asked()
    names = [*columns(SmsDevice)]
    if member:
        phones = phones.filter(user__is_active=True)
        names += [f"user__{name}" for name in columns(User)]
    if lock:
        phones = phones.select_for_update(of=("self",))  # the phone's row, not the member's
    return phones.annotate(**extra).values_list(*names, *extra)[:1]


# The sign-in's reads of the phone, built by the ORM once (core.compiled): each is the
# first query of its step, and building it took the ORM ten times longer than the
# database took to answer (issue 12's profile).
_signin_phone = compiled_select(
    lambda user_id: _phone_read(
        SmsDevice.objects.on_file(), user_id,
        alternatives=True, text=False, member=False, lock=False,
    ),
    user_id=int,
)
_pending_phone = {
    (page, lock): compiled_select(
        lambda user_id, page=page, lock=lock: _phone_read(
            SmsDevice.objects.reachable(), user_id,
            alternatives=page, text=page, member=True, lock=lock,
        ),
        user_id=int,
    )
    for page in (True, False)
    for lock in (True, False)
}


def _phone_of(row, user=None) -> tuple[SmsDevice, tuple]:
    """The phone of a _phone_read row, its member (`user`, or the row's), and the row's
    extra values."""
    width = len(columns(SmsDevice))
    phone = model_from_row(SmsDevice, row[:width])
    if user is None:
        end = width + len(columns(User))
        user, extra = model_from_row(User, row[width:end]), row[end:]
    else:
        extra = row[width:]
    phone.user = user  # no join to read it again
    return phone, extra


def signin_phone(user) -> tuple[SmsDevice | None, Alternatives]:
    """`user`'s phone on file, its `user` being `user`, and their alternatives to it: one
    query where they have a phone, as nearly everybody at the SMS step has."""
    row = _signin_phone.first(user_id=user.pk)
    if row is None:
        return None, signin_alternatives(user)
    phone, answers = _phone_of(row, user)
    return phone, _alternatives(answers)


def pending_phone(user_id: int, *, page: bool, lock: bool = False) -> SmsDevice | None:
    """The phone that sign-in codes go to (SmsDevice.objects.reachable()) of the active
    member `user_id`, with the member (`phone.user`): the code step's one read, the member's
    included (accounts.signin.signin_pending then checks them without reading them again).

    `page`: for the code page, also their other factors (`phone.alternatives`) and how the
    latest text went (mfa.codes.code_delivery_failure). `lock`: under the phone's row lock,
    for the caller's transaction (mfa.codes.code_verify(locked=True)).
    """
    row = _pending_phone[page, lock].first(user_id=user_id)
    if row is None:
        return None
    phone, extra = _phone_of(row)
    if page:
        phone.alternatives = _alternatives(extra[:3])
        phone.latest_text_status, phone.latest_text_error = extra[3:]
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
