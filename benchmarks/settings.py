"""The production settings as benchmarks/load.py serves them with scripts/serve: the
app's URLs plus Django's bare LoginView (benchmarks.urls, the floor), its template, and
the MD5 password hasher unless BENCH_HASHER=default.

The hasher is the one change to what production runs: Django's PBKDF2 costs about the
same in every sign-in, ours and the floor alike, and at 1.5 million iterations it would
be nearly all the CPU measured, hiding what the app itself costs (the same choice as
benchmarks/signin.py and ../shared/bench).
"""

import os

from backstage.settings import *  # noqa: F403
from backstage.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "benchmarks.urls"
# registration/login.html, the LoginView's page (the app has none).
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [BASE_DIR / "benchmarks" / "templates", *TEMPLATES[0]["DIRS"]]}
]
if os.environ.get("BENCH_HASHER", "md5") == "md5":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
