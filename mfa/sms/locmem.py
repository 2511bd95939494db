"""Keeps messages in mfa.sms.outbox, for tests (like Django's locmem email backend)."""

from mfa import sms
from mfa.sms.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send(self, message: sms.SmsMessage) -> str:
        # Looked up at send time, so a test that empties the list keeps seeing the new sends.
        sms.outbox.append(message)
        return ""
