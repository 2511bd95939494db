"""Does a page answer faster or slower for an address that has an account? Wall-clock
milliseconds of Forgot password, an invitation and a wrong-password sign-in, for addresses
with and without an account (issue 10, item 5).

    .venv/bin/python -m benchmarks.enumeration [--rounds 200]

Whole requests through Django's test client on an in-memory SQLite database, with the
production's task backend (emails are stored as tasks, and no worker runs: sending them is
not part of the answer). Sign-in uses the production's password hasher, since an attacker
times that request as it is. Each round asks once with an address that has an account and
once with one that has none, taking turns going first, each time a new address from a new
client IP so that no limit is reached; the medians must be within 5% of each other. Wall
time is what an attacker sees; CPU time (of this one process) is the same work without the
noise of other processes on the machine.
"""

import argparse
import gc
import logging
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment

from accounts.models import User
from organizations.models import Membership, Organization
from tests.helpers import signed_in

PASSWORD = "correct horse battery"  # noqa: S105
TOLERANCE = 0.05


class Asks:
    """Each method: one request about `email` (which has an account or not), from a new IP."""

    def __init__(self):
        self.count = 0
        self.organization = Organization.objects.create(name="Bench", slug="bench")
        grace = User.objects.create_user(
            email="grace@bench.example", password=PASSWORD, full_name="Grace Hopper"
        )
        Membership.objects.create(user=grace, organization=self.organization,
                                  role=Membership.Role.ADMIN)
        self.admin = signed_in(grace)

    def address(self, *, account: bool) -> str:
        self.count += 1
        email = f"person{self.count}@example.com"
        if account:
            # One hash for all: the same work to check, without hashing for each account.
            if not hasattr(self, "password_hash"):
                self.password_hash = make_password(PASSWORD)
            User.objects.create(email=email, password=self.password_hash, full_name="Bench Mark")
        return email

    def client(self) -> Client:
        n = self.count
        return Client(REMOTE_ADDR=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")

    def forgot_password(self, email: str) -> Callable:
        client = self.client()
        return lambda: client.post("/password-reset/", {"email": email})

    def invitation(self, email: str) -> Callable:
        url = f"/organizations/{self.organization.slug}/members/invite/"
        return lambda: self.admin.post(url, {"email": email, "role": "member"})

    def sign_in(self, email: str) -> Callable:
        client = self.client()
        return lambda: client.post("/signin/", {"email": email, "password": "wrong password!"})


def measure(asks: Asks, flows: list[tuple[str, Callable]], rounds: int) -> dict:
    """Per flow and kind of address: the median wall and CPU milliseconds, and the mean
    queries, of `rounds` requests. The two kinds take turns going first."""
    wall, cpu, queries = {}, {}, {}
    for round_ in range(rounds):
        for flow, ask in flows:
            order = (True, False) if round_ % 2 == 0 else (False, True)
            runs = [(account, ask(asks.address(account=account))) for account in order]
            for account, run in runs:
                reset_queries()  # the log keeps 9,000 queries at most; setups add to it too
                gc.disable()
                with CaptureQueriesContext(connection) as captured:
                    start, start_cpu = time.perf_counter(), time.process_time()
                    response = run()
                    elapsed, elapsed_cpu = (time.perf_counter() - start,
                                            time.process_time() - start_cpu)
                gc.enable()
                if response.status_code not in (200, 302):
                    raise RuntimeError(f"{flow}: {response.status_code}")
                key = (flow, account)
                wall.setdefault(key, []).append(elapsed)
                cpu.setdefault(key, []).append(elapsed_cpu)
                queries[key] = queries.get(key, 0) + len(captured.captured_queries)
    return {key: (statistics.median(wall[key]) * 1000, statistics.median(cpu[key]) * 1000,
                  queries[key] / rounds) for key in wall}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    logging.disable(logging.WARNING)  # log lines would time the terminal
    setup_test_environment()
    override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        # The production's hasher: tests/settings.py swaps in a fast one.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        # Each round invites from one organization: lift its hourly limit (not measured).
        LIMITS={**settings.LIMITS,
                "INVITATIONS_PER_ORGANIZATION": {**settings.LIMITS["INVITATIONS_PER_ORGANIZATION"],
                                                 "max": 10**9}},
    ).enable()
    connection.creation.create_test_db(verbosity=0)
    asks = Asks()
    flows = [
        ("Forgot password", asks.forgot_password),
        ("invitation (Members page)", asks.invitation),
        ("sign-in, wrong password", asks.sign_in),
    ]
    measure(asks, flows, 5)  # warm up imports, templates and caches
    results = measure(asks, flows, args.rounds)
    print(f"{'request':26} {'wall ms: account':>16} {'none':>7} {'ratio':>6}   "
          f"{'CPU ms: account':>15} {'none':>7} {'ratio':>6}  {'queries':>7}")
    for flow, _ in flows:
        known, unknown = results[flow, True], results[flow, False]
        line = f"{flow:26}"
        for measure_ in (0, 1):
            ratio = known[measure_] / unknown[measure_]
            verdict = "ok" if abs(ratio - 1) <= TOLERANCE else "OVER"
            line += f" {known[measure_]:16.2f} {unknown[measure_]:7.2f} {ratio:6.3f} {verdict:4}"
        print(f"{line} {known[2]:4.0f}/{unknown[2]:<4.0f}")

if __name__ == "__main__":
    main()
