"""The local outbox at /dev/outbox/: the SMS and emails that the filebased backends wrote.

Mounted only when DEBUG is on (backstage/urls.py), so a newcomer can read their
invitation and codes in the browser.
"""

from email import message_from_string
from email.policy import default as email_policy
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

MAX_MESSAGES = 50
# Django's file-based email backend ends every message with this line.
EMAIL_SEPARATOR = "\n" + "-" * 79 + "\n"


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        (f for f in folder.iterdir() if f.is_file()), key=lambda f: f.stat().st_mtime, reverse=True
    )[:MAX_MESSAGES]


def _sms(folder: Path) -> list[dict]:
    return [
        {"kind": "SMS", "sent_at": f.stat().st_mtime, "text": f.read_text(errors="replace")}
        for f in _files(folder)
    ]


def _emails(folder: Path) -> list[dict]:
    emails = []
    for f in _files(folder):
        for raw in f.read_text(errors="replace").split(EMAIL_SEPARATOR):
            if not raw.strip():
                continue
            message = message_from_string(raw.strip(), policy=email_policy)
            body = message.get_body(preferencelist=("plain",))
            emails.append(
                {
                    "kind": _("Email"),
                    "sent_at": f.stat().st_mtime,
                    "subject": message["Subject"],
                    "text": f"To: {message['To']}\n\n{body.get_content() if body else ''}",
                }
            )
    return emails


@login_not_required
def outbox(request):
    if not settings.DEBUG:
        raise Http404
    messages = _sms(settings.SMS_FILE_PATH) + _emails(settings.EMAIL_OUTBOX_DIR)
    messages.sort(key=lambda m: m["sent_at"], reverse=True)
    return render(request, "dev/outbox.html", {"outbox": messages[:MAX_MESSAGES]})


urlpatterns = [path("outbox/", outbox, name="dev-outbox")]
