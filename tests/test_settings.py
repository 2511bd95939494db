"""The operating contract: unsafe production settings stop start-up; safe ones pass
check --deploy."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 64 + "-a-long-random-production-secret",
    "ALLOWED_HOSTS": "backstage.example.com",
    "SITE_URL": "https://backstage.example.com",
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "secret-token",
    "TWILIO_FROM_NUMBER": "+15005550006",
}


def manage(*args, **env):
    # The suite's own settings live in the environment too (tests/settings.py); drop them.
    ours = {*PRODUCTION_ENV, "DATABASE_URL", "SECURE_SSL_REDIRECT", "EMAIL_BACKEND",
            "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    # Some checks open the database: a throwaway SQLite file, since a fresh clone has no var/.
    database = {"DATABASE_URL": f"sqlite:///{tempfile.gettempdir()}/backstage-check.sqlite3"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **database, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_stops_start_up_with_a_fix():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_console_sms_backend_stops_start_up_without_debug():
    result = manage("check", **{**PRODUCTION_ENV, "SMS_BACKEND": "console"})
    assert result.returncode != 0
    assert "set SMS_BACKEND to twilio" in result.stderr


def test_local_development_needs_no_configuration():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr
