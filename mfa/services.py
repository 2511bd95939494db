from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from accounts.emails import send_email
from accounts.events import security_event_record
from accounts.models import SecurityEvent
from core.compiled import (
    columns,
    compiled_insert,
    compiled_select,
    compiled_update,
    model_from_row,
    saved,
)
from core.queries import first_or_none
from mfa import device_names
from mfa.codes import PHONE_REMOVED, CodeError, PhoneOnFile, code_deliver, code_prepare
from mfa.models import SmsDevice, stored_number
from mfa.trust import remembered_browsers_forget


def phone_code_request(*, user, number: PhoneNumber, attempt: str, ip: str | None) -> None:
    """Send a code to a number that is not on file yet: a change, from personal settings
    (the sign-in's first phone: first_phone_code_request)."""
    with transaction.atomic():  # a refused text leaves no device behind either
        device, _ = SmsDevice.objects.get_or_create(
            user=user, defaults={"name": device_names.PHONE, "confirmed": False}
        )
        prepared = code_prepare(device=device, attempt=attempt, to=number, ip=ip)
    code_deliver(prepared)


def member_device(user) -> SmsDevice | None:
    """`user`'s SMS device in whatever state (a phone on file, a number waiting for its
    code, or neither yet), its `user` being `user`; None if they have none."""
    row = _member_device.first(user_id=user.pk)
    if row is None:
        return None
    device = model_from_row(SmsDevice, row)
    device.user = user  # no join to read them again
    return device


# The phone step reads it on each request (core.compiled: built by the ORM once).
_member_device = compiled_select(
    lambda user_id: SmsDevice.objects.filter(user_id=user_id).values_list(*columns(SmsDevice)),
    user_id=int,
)


def first_phone_code_request(
    *, user, device: SmsDevice | None, number: PhoneNumber, attempt: str, ip: str | None
) -> bool:
    """The sign-in's phone step: send a code to `number`, the first phone of a member who has
    none on file (`device`: their device as member_device() read it, unconfirmed, or None).

    False, with nothing sent or made, once the member has a phone on file (confirmed
    meanwhile, in another tab): a new number for them is a phone change, which only personal
    settings make, after re-authentication (phone_change_start).
    """
    try:
        with transaction.atomic():  # a refused text leaves no device behind either
            if device is None:
                device = _device_make(user)
            prepared = code_prepare(
                device=device, attempt=attempt, to=number, ip=ip, first_phone=True
            )
    except PhoneOnFile:
        return False
    code_deliver(prepared)
    return True


def _device_make(user) -> SmsDevice:
    """A new device for `user`, no number yet, in the caller's transaction.

    One INSERT, without get_or_create's savepoint pair: should another request of the
    member have made theirs a moment before, the conflict's no-op update takes that row
    (its id returned like a new one's), and code_prepare's conditional UPDATE then decides
    on its state as it is in the database.
    """
    return _device_upsert(SmsDevice(user=user, name=device_names.PHONE, confirmed=False))


def phone_confirm(
    *, device: SmsDevice, ip: str | None, user_agent: str, locked: bool = False
) -> SmsDevice:
    """After a verified code: the number it was sent to becomes the member's phone.

    Every binding is emailed to the member, the first phone (at the first sign-in, or after
    an admin's Remove user phone: SECURITY 29) as well as a change in personal settings, so
    that a phone they did not set does not go unnoticed. Raises CodeError ("removed") if an
    admin removed the phone since the code was checked.

    `locked`: `device` was read under its row lock in the caller's transaction, still open
    (the code step's, around code_verify), so it is as it is in the database and stays so:
    not read again. Outside a transaction the lock is gone, and the row is read again.
    """
    if not device.pending_number:
        return device
    user = device.user  # as the caller read it
    # Asked before the block below, which is a transaction itself.
    held = locked and transaction.get_connection().in_atomic_block
    # No savepoint of its own in the caller's transaction (the code step's): nothing in the
    # block raises but the database.
    with transaction.atomic(savepoint=False):
        if not held:
            device = first_or_none(SmsDevice.objects.select_for_update().filter(pk=device.pk))
        if device is not None:
            _phone_bind(device, user=user, ip=ip, user_agent=user_agent)
    if device is None:  # removed by an admin since the code was checked
        raise CodeError(PHONE_REMOVED, code="removed")
    return device


def _phone_bind(device: SmsDevice, *, user, ip: str | None, user_agent: str) -> None:
    """The number waiting on `device` (read under its row lock) becomes the phone on file."""
    changed = device.confirmed
    device.number, device.pending_number, device.confirmed = device.pending_number, "", True
    # device.save(update_fields=["number", "pending_number", "confirmed"]), compiled.
    saved(SmsDevice, _phone_bound(pk=device.pk, number=stored_number(device.number)))
    if changed:
        # Browsers remembered for the old phone should not vouch for the new one.
        remembered_browsers_forget(user=user)
    security_event_record(
        kind=SecurityEvent.Kind.PHONE_CHANGED if changed else SecurityEvent.Kind.PHONE_SET,
        ip=ip,
        user_agent=user_agent,
        actor=user,
        subject=user,
    )
    device.user = user
    _phone_set_email(device, first_phone=not changed)


# _device_make's and _phone_bind's writes, compiled (core.compiled): the ORM spent several
# times longer building them than the database took to run them. Nobody receives
# SmsDevice's save() signals (no pre_save or post_save receiver, ours or django-otp's), so
# none is missed.
# bulk_create(update_conflicts=True, unique_fields=["user"], update_fields=["user"]):
_device_upsert = compiled_insert(SmsDevice, unique_fields=["user"], update_fields=["user"])
_phone_bound = compiled_update(
    lambda pk, number: (
        SmsDevice.objects.filter(pk=pk),
        # The values _phone_bind gave the device.
        {"number": number, "pending_number": "", "confirmed": True},
    ),
    pk=int, number=str,
)


def _phone_set_email(device: SmsDevice, *, first_phone: bool) -> None:
    user = device.user
    context = {
        "user": user,
        "first_phone": first_phone,
        "number_hint": str(device.number)[-2:],
        "changed_at": timezone.now(),
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    # Stored with the change (accounts.emails.send_email): both are kept, or neither.
    send_email(to=user.email, template="phone_changed", context=context, language=user.language)
