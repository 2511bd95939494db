"""A member changing their own phone from personal settings (SPEC journey 7).

The code goes to the new number, bound to this change by its own attempt id (kept in the
session, like a sign-in attempt), so that a code sent for a sign-in cannot confirm a change
and the other way round. Until that code is entered the number on file stays the phone.
"""

from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber

from mfa.codes import CodeError, code_send, code_verify
from mfa.models import SmsDevice
from mfa.services import phone_code_request, phone_confirm


def phone_masked(number) -> str:
    """Only the last two digits, the way the sign-in code page names the phone."""
    return f"•••• •• {str(number)[-2:]}" if number else str(_("No phone"))


def phone_change_start(*, user, number: PhoneNumber, attempt: str, ip: str | None) -> None:
    """Send a code for `attempt` to `number`, which becomes the phone once the code is entered."""
    if SmsDevice.objects.on_file().filter(user=user, number=number).exists():
        raise CodeError(_("This is already your phone number."), code="same_number")
    phone_code_request(user=user, number=number, attempt=attempt, ip=ip)


def phone_change_pending(*, user) -> SmsDevice | None:
    """The member's device while a new number waits for its code, else None."""
    return SmsDevice.objects.changing().select_related("user").filter(user=user).first()


def phone_change_resend(*, device: SmsDevice, attempt: str, ip: str | None) -> None:
    code_send(device=device, attempt=attempt, to=device.pending_number, ip=ip)


def phone_change_confirm(
    *, device: SmsDevice, attempt: str, code: str, ip: str | None, user_agent: str
) -> SmsDevice:
    """With the right code for `attempt`, the waiting number becomes the member's phone.

    phone_confirm forgets the member's remembered browsers, records the change and tells the
    member by email.
    """
    device = code_verify(
        device=device, attempt=attempt, code=code, ip=ip, user_agent=user_agent
    )
    if not device.pending_number:
        # Only a code sent to the number on file leaves nothing waiting, and
        # phone_change_start never sends one; refuse rather than confirm nothing.
        raise CodeError(_("This code can no longer be used. Start again."), code="no_change")
    device = phone_confirm(device=device, ip=ip, user_agent=user_agent)
    return device
