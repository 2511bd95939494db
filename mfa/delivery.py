"""What to tell a person whose text message did not go out or did not arrive.

These are the product's words, the same whatever the backend: a backend names the kind of
failure (`Failure`), mapping its provider's error codes onto the kinds
(BaseSmsBackend.failure_kind), and mfa.sms.SmsDeliveryError and the code pages
(mfa.codes.code_delivery_failure) word the kind from here.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Failure(StrEnum):
    TRY_AGAIN = "try_again"  # The provider's trouble or ours: nothing for the person to fix.
    INVALID_NUMBER = "invalid_number"
    COUNTRY = "country"
    OPTED_OUT = "opted_out"
    NOT_MOBILE = "not_mobile"
    UNREACHABLE = "unreachable"
    BLOCKED = "blocked"
    UNKNOWN_NUMBER = "unknown_number"
    FILTERED = "filtered"
    UNDELIVERABLE = "undeliverable"
    # The provider's protection against SMS pumping (toll fraud) held the message back.
    PUMPING = "pumping"


MESSAGES = {
    Failure.TRY_AGAIN: _("We couldn't send the text message right now. Try again in a minute."),
    Failure.INVALID_NUMBER: _("This phone number isn't valid. Check it and try again."),
    Failure.COUNTRY: _(
        "Text messages can't be sent to this country yet. Contact your organization admin."
    ),
    Failure.OPTED_OUT: _(
        "This number has turned off our text messages (by replying STOP). Reply START to "
        "one of our earlier messages from that phone, then try again."
    ),
    Failure.NOT_MOBILE: _(
        "This number can't receive text messages (it may be a landline). Use a mobile number."
    ),
    Failure.UNREACHABLE: _(
        "Your phone couldn't be reached. Check that it is switched on and has signal, "
        "then try again."
    ),
    Failure.BLOCKED: _(
        "This number is blocking our text messages. Unblock them on the phone or with "
        "the mobile carrier, then try again."
    ),
    Failure.UNKNOWN_NUMBER: _(
        "This number is unknown or no longer in service. Check it and try again."
    ),
    Failure.FILTERED: _(
        "The mobile carrier filtered out our text message. Try again in a few minutes; "
        "if it keeps happening, contact your organization admin."
    ),
    Failure.UNDELIVERABLE: _(
        "The text message couldn't be delivered. Try again in a minute; if it keeps "
        "happening, contact your organization admin."
    ),
    Failure.PUMPING: _(
        "Our text message provider held back this message, because many messages to "
        "numbers like this one were asked for lately. Try again later; if it keeps "
        "happening, contact your organization admin."
    ),
}

# Before the reason, on a code page whose code was reported as not delivered.
UNDELIVERED = _("We couldn't deliver the text message with your code.")


def failure_message(kind: str) -> str:
    """The sentence for a kind of failure; the generic "try again" for any other."""
    return MESSAGES.get(kind, MESSAGES[Failure.TRY_AGAIN])
