"""Writes one file per message into settings.SMS_FILE_PATH (local development)."""

import secrets
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from mfa.sms import SmsMessage
from mfa.sms.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, file_path=None):
        self.file_path = Path(file_path or settings.SMS_FILE_PATH)

    def send(self, message: SmsMessage) -> str:
        self.file_path.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        # Sorts by time; the random part keeps two messages in the same microsecond apart,
        # and mode "x" refuses to overwrite should they still meet.
        name = f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}.txt"
        with (self.file_path / name).open("x", encoding="utf-8") as file:
            file.write(f"To: {message.to}\nDate: {now.isoformat()}\n\n{message.body}\n")
        return name
