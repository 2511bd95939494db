"""Sign-in flows measured in one process: CPU milliseconds and queries per flow and request.

    .venv/bin/python -m benchmarks.signin [--rounds 100]

Each flow runs end to end through Django's test client on an in-memory SQLite database
with a fast password hasher (the hasher would otherwise dominate every flow alike).
The floor is Django's own LoginView with no second factor; the other flows are
compared with it as ratios, measured in the same run.
"""

import argparse
import gc
import logging
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

from accounts.models import User
from mfa import sms
from mfa.models import SmsDevice
from organizations.models import Membership, Organization

PASSWORD = "correct horse battery"  # noqa: S105
TARGETS = {"password + SMS code": 1.5, "remembered browser": 1.15, "first enrollment": 2.0}


def code_from_outbox() -> str:
    return sms.outbox[-1].body.split("code is ")[1][:6]


class Flows:
    def __init__(self):
        self.organization = Organization.objects.create(name="Bench", slug="bench")
        self.count = 0

    def member(self, *, phone: bool) -> User:
        self.count += 1
        user = User.objects.create_user(
            email=f"member{self.count}@bench.example", password=PASSWORD, full_name="Bench Mark"
        )
        Membership.objects.create(user=user, organization=self.organization)
        if phone:
            SmsDevice.objects.create(user=user, number=self.number(), confirmed=True)
        return user

    def client(self) -> Client:
        # Each member signs in from an address of their own, as people do: from one
        # address, every check would read all of the day's sends of that address.
        return Client(
            REMOTE_ADDR=f"10.{self.count // 65536}.{self.count // 256 % 256}.{self.count % 256}"
        )

    def number(self) -> str:
        # And a number of their own, not a neighbour's: the limits also count sends to the
        # block of 100 numbers around it, which in life holds strangers' numbers, not members'.
        return f"+4179{1_000_000 + 100 * self.count:07d}"

    # Each flow: a setup that is not measured, then its measured steps, one request each.
    def password_only(self):
        user, client = self.member(phone=False), self.client()
        return [
            ("password", lambda: client.post(
                "/django-login/", {"username": user.email, "password": PASSWORD}
            )),
        ]

    def password_and_code(self):
        user, client = self.member(phone=True), self.client()
        return [
            ("password", lambda: client.post(
                "/signin/", {"email": user.email, "password": PASSWORD}
            )),
            ("code", lambda: client.post("/signin/code/", {"code": code_from_outbox()})),
        ]

    def remembered_browser(self):
        user, client = self.member(phone=True), self.client()
        client.post("/signin/", {"email": user.email, "password": PASSWORD})
        client.post("/signin/code/", {"code": code_from_outbox(), "remember": "on"})
        client.post("/signout/")
        return [
            ("password", lambda: client.post(
                "/signin/", {"email": user.email, "password": PASSWORD}
            )),
        ]

    def first_enrollment(self):
        user, client = self.member(phone=False), self.client()
        return [
            ("password", lambda: client.post(
                "/signin/", {"email": user.email, "password": PASSWORD}
            )),
            ("phone", lambda: client.post(
                "/signin/phone/", {"country": "CH", "number": self.number()}
            )),
            ("code", lambda: client.post("/signin/code/", {"code": code_from_outbox()})),
        ]


Plan = list[tuple[str, Callable[[], list[tuple[str, Callable]]]]]


def measure(plan: Plan, rounds: int) -> dict:
    """Per flow and per step: the median CPU milliseconds and the mean queries of `rounds` runs.

    The flows take turns, round after round, so that a machine slowing down mid-run
    weighs on every flow alike; as timeit does, the garbage collector is off while a step
    runs, and the median leaves out the odd slow run.
    """
    cpu = defaultdict(list)
    queries = defaultdict(int)
    for _ in range(rounds):
        for flow, setup in plan:
            steps = setup()
            total = 0.0
            for step, run in steps:
                reset_queries()  # the log keeps 9,000 queries at most; setups add to it too
                gc.disable()
                with CaptureQueriesContext(connection) as captured:
                    start = time.process_time()
                    response = run()
                    spent = time.process_time() - start
                gc.enable()
                if response.status_code != 302:
                    raise RuntimeError(f"{flow}, {step}: {response.status_code}, not a redirect")
                cpu[flow, step].append(spent)
                queries[flow, step] += len(captured.captured_queries)
                queries[flow] += len(captured.captured_queries)
                total += spent
            cpu[flow].append(total)
    return {key: (statistics.median(cpu[key]) * 1000, queries[key] / rounds) for key in cpu}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()

    # Log lines would measure the terminal they are written to, not the sign-in.
    logging.disable(logging.INFO)
    setup_test_environment()
    settings.ROOT_URLCONF = "benchmarks.urls"
    settings.LOGIN_REDIRECT_URL = "/"
    # Many sign-ins from one IP in a minute: lift the SMS limits, which are not measured here.
    settings.LIMITS = {
        **settings.LIMITS,
        **{
            name: {"window": timedelta(hours=1), "max": 10**9}
            for name in settings.LIMITS
            if name.startswith("SMS_")
        },
    }
    settings.MFA_RESEND_COOLDOWN = timedelta(0)
    connection.creation.create_test_db(verbosity=0)
    flows = Flows()
    plan = [
        ("password only (Django's LoginView)", flows.password_only),
        ("password + SMS code", flows.password_and_code),
        ("remembered browser", flows.remembered_browser),
        ("first enrollment", flows.first_enrollment),
    ]
    measure(plan, 5)  # warm up imports, templates and caches
    results = measure(plan, args.rounds)
    floor = results[plan[0][0]][0]
    heading = f"{'flow, then each of its requests':38} {'CPU ms':>8} {'queries':>8}"
    print(f"{heading} {'ratio':>6} {'target':>7}")
    for flow, _ in plan:
        target = TARGETS.get(flow)
        cpu_ms, queries = results[flow]
        verdict = "" if target is None else ("ok" if cpu_ms / floor <= target else "OVER")
        print(
            f"{flow:38} {cpu_ms:8.2f} {queries:8.1f} {cpu_ms / floor:5.2f}x "
            f"{f'≤ {target:.2f}x' if target else '':>7} {verdict}"
        )
        steps = [key[1] for key in results if isinstance(key, tuple) and key[0] == flow]
        if len(steps) > 1:
            for step in steps:
                cpu_ms, queries = results[flow, step]
                print(f"  {step + ' step':36} {cpu_ms:8.2f} {queries:8.1f} {cpu_ms / floor:5.2f}x")


if __name__ == "__main__":
    main()
