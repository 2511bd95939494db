"""Sending text messages, in the style of django.core.mail.

`settings.SMS_BACKEND` names the backend class; `get_backend()` loads it. Backends
never see the request and never decide whether a message may be sent: that is
`mfa.sending.sms_send`, which also records every send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

# For the type hint only: base.py imports SmsMessage from here, so a real import would be a
# circle.
if TYPE_CHECKING:
    from mfa.sms.base import BaseSmsBackend

# The locmem backend appends every message here, like django.core.mail.outbox.
outbox: list[SmsMessage] = []


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, e.g. "+41791234567"
    body: str


class SmsDeliveryError(Exception):
    """The provider refused the message or could not be reached.

    `code` is the provider's error code or a short reason ("21211", "http-500",
    "timeout") for the log and the SmsMessage row; `user_message` is a sentence the
    person can act on, without internals.
    """

    def __init__(self, user_message: str, *, code: str):
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code

    def __repr__(self):
        return f"SmsDeliveryError(code={self.code!r})"


def get_backend(backend: str | None = None, **kwargs) -> BaseSmsBackend:
    """An instance of the configured backend (or of the dotted path `backend`)."""
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)
