"""Prints each message to stdout (local development only: it shows the codes)."""

import sys
import threading

from mfa.sms import SmsMessage
from mfa.sms.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send(self, message: SmsMessage) -> str:
        with self._lock:
            self.stream.write(f"To: {message.to}\n\n{message.body}\n{'-' * 79}\n")
            self.stream.flush()
        return ""
