from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from accounts.emails import send_email_on_commit
from accounts.events import security_event_record
from accounts.models import SecurityEvent
from mfa.codes import PHONE_REMOVED, CodeError, code_send
from mfa.models import SmsDevice
from mfa.trust import remembered_browsers_forget


def phone_code_request(*, user, number: PhoneNumber, attempt: str, ip: str | None) -> None:
    """Send a code to a number that is not on file yet (first enrollment or a change)."""
    device, _ = SmsDevice.objects.get_or_create(
        user=user, defaults={"name": "Mobile phone", "confirmed": False}
    )
    code_send(device=device, attempt=attempt, to=number, ip=ip)


def phone_confirm(*, device: SmsDevice, ip: str | None, user_agent: str) -> SmsDevice:
    """After a verified code: the number it was sent to becomes the member's phone.

    Every binding is emailed to the member, the first phone (at the first sign-in, or after
    an admin's Remove user phone: SECURITY 29) as well as a change in personal settings, so
    that a phone they did not set does not go unnoticed. Raises CodeError ("removed") if an
    admin removed the phone since the code was checked."""
    if not device.pending_number:
        return device
    user = device.user  # as the caller read it (code_verify reads it with the device)
    with transaction.atomic():
        device = SmsDevice.objects.select_for_update().filter(pk=device.pk).first()
        if device is None:  # removed by an admin since the code was checked
            raise CodeError(PHONE_REMOVED, code="removed")
        changed = device.confirmed
        device.number, device.pending_number, device.confirmed = device.pending_number, "", True
        device.save(update_fields=["number", "pending_number", "confirmed"])
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
    return device


def _phone_set_email(device: SmsDevice, *, first_phone: bool) -> None:
    user = device.user
    context = {
        "user": user,
        "first_phone": first_phone,
        "number_hint": str(device.number)[-2:],
        "changed_at": timezone.now(),
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    send_email_on_commit(
        to=user.email, template="phone_changed", context=context, language=user.language
    )
