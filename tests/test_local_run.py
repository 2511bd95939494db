"""What a newcomer's `scripts/run` relies on: the links it prints follow PORT, and Django's
own spelling of the email settings works as the short one does."""

import tempfile
from pathlib import Path

from tests.test_settings import manage


def shell(code: str, **env):
    return manage("shell", "--no-imports", "-c", code, **env)


def test_the_invitation_link_that_seed_demo_prints_follows_port():
    shown = shell(
        "from accounts.invitations import invitation_url; print(invitation_url('t0ken'))",
        DEBUG="1", PORT="8765",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "http://127.0.0.1:8765/invitation/t0ken/"


def test_site_url_when_set_wins_over_port():
    shown = shell(
        "from django.conf import settings; print(settings.SITE_URL)",
        DEBUG="1", PORT="8765", SITE_URL="https://backstage.example.com/",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "https://backstage.example.com"


def test_djangos_dotted_email_backend_writes_to_email_file_path():
    send = (
        "from django.core.mail import send_mail; "
        "send_mail('Hello', 'Body', 'from@example.com', ['ada@example.com'])"
    )
    with tempfile.TemporaryDirectory() as folder:
        sent = shell(
            send, DEBUG="1", EMAIL_FILE_PATH=folder,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        )
        assert sent.returncode == 0, sent.stderr
        written = [file.read_text() for file in Path(folder).iterdir()]
    assert len(written) == 1 and "Subject: Hello" in written[0]
