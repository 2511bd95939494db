"""The local outbox at /dev/outbox/: the SMS and emails that the filebased backends wrote.

Mounted only when DEBUG is on (backstage/urls.py), so a newcomer can read their
invitation and codes in the browser.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path

MAX_MESSAGES = 50


def _messages(folder: Path, kind: str) -> list[dict]:
    if not folder.is_dir():
        return []
    files = sorted(folder.iterdir(), key=lambda f: f.stat().st_mtime, reverse=True)
    return [
        {
            "kind": kind,
            "name": f.name,
            "sent_at": f.stat().st_mtime,
            "text": f.read_text(errors="replace"),
        }
        for f in files[:MAX_MESSAGES]
        if f.is_file()
    ]


@login_not_required
def outbox(request):
    if not settings.DEBUG:
        raise Http404
    messages = _messages(settings.SMS_FILE_PATH, "SMS") + _messages(
        settings.EMAIL_OUTBOX_DIR, "Email"
    )
    messages.sort(key=lambda m: m["sent_at"], reverse=True)
    return render(request, "dev/outbox.html", {"outbox": messages[:MAX_MESSAGES]})


urlpatterns = [path("outbox/", outbox, name="dev-outbox")]
