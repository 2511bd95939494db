"""The production settings, with test stand-ins chosen through the environment as an
operator would (so the suite also proves that the settings read it)."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-real-deployment")
os.environ.setdefault("SMS_BACKEND", "locmem")
os.environ.setdefault("EMAIL_BACKEND", "locmem")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SITE_URL", "http://testserver")

from backstage.settings import *  # noqa: F403

# Hashing passwords the slow way only slows the suite; the hasher is not under test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite runs without collectstatic: serve static files straight from the finders.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Emails are sent inside the request, as they were before they became tasks, so that tests
# read mail.outbox straight away; tests/accounts/test_email_tasks.py runs the database
# backend and its worker, as production does.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
