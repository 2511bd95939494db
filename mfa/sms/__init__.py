"""Sending text messages, in the style of django.core.mail.

`settings.SMS_BACKEND` names the backend class; `get_backend()` loads it. Backends
never see the request and never decide whether a message may be sent: that is
`mfa.sending.sms_send`, which also records every send. Nor do they word their failures:
they name a kind (mfa.delivery.Failure), and the product's words for it are in mfa.delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import ApplicationError
from mfa.delivery import failure_message

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


class SmsDeliveryError(ApplicationError):
    """The provider refused the message or could not be reached.

    `kind` (mfa.delivery.Failure) is what the person can do about it, and `message` the
    product's sentence for that kind; `code` is the provider's error code or a short
    reason ("21211", "http-500", "timeout") for the log and the SmsMessage row.
    """

    def __init__(self, kind: str, *, code: str):
        super().__init__(failure_message(kind), code=code)
        self.kind = kind


def get_backend(backend: str | None = None, **kwargs) -> BaseSmsBackend:
    """An instance of the configured backend (or of the dotted path `backend`)."""
    return _backend_class(backend)(**kwargs)


def failure_kind(code: str) -> str:
    """The kind of failure (mfa.delivery.Failure) that the configured backend's `code` is."""
    return _backend_class().failure_kind(code)


def _backend_class(backend: str | None = None) -> type[BaseSmsBackend]:
    return import_string(backend or settings.SMS_BACKEND)
