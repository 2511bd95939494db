"""The Members page with many members: milliseconds and queries per page view.

    .venv/bin/python -m benchmarks.members [--members 10000] [--rounds 50]

An organization with --members members (half with a phone) and its admin, on an in-memory
SQLite database (or DATABASE_URL's), viewed through Django's test client as the admin:
the first page, a page in the middle, the last page, and a search. Wall-clock and CPU
milliseconds are averages over --rounds views; the query count is the same for every view
of a kind whatever the size (tests/organizations/members/test_members.py asserts it).
"""

import argparse
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

from accounts.models import User
from accounts.signin import METHOD_KEY
from mfa.models import SmsDevice
from organizations.member_views import PER_PAGE
from organizations.models import Membership, Organization

BATCH = 2000


def organization_make(members: int) -> User:
    """The organization with `members` members; its admin, who views the page."""
    organization = Organization.objects.create(name="Bench", slug="bench")
    admin = User.objects.create_user(
        email="admin@bench.example", full_name="Bench Admin", password=None
    )
    Membership.objects.create(user=admin, organization=organization, role=Membership.Role.ADMIN)
    for start in range(0, members, BATCH):
        # Unusable passwords: hashing 10,000 of them is not what is measured.
        users = User.objects.bulk_create(
            User(
                email=f"member{n:06d}@bench.example",
                full_name=f"Member {n:06d}",
                password=make_password(None),
            )
            for n in range(start, min(start + BATCH, members))
        )
        Membership.objects.bulk_create(
            Membership(user=user, organization=organization) for user in users
        )
        SmsDevice.objects.bulk_create(
            SmsDevice(user=user, name="Mobile phone", number="+41791234567", confirmed=True)
            for user in users[::2]
        )
    return admin


def measure(client: Client, url: str, rounds: int) -> dict:
    wall = cpu = 0.0
    queries = 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            wall += time.perf_counter() - start_wall
            cpu += time.process_time() - start_cpu
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        queries = len(captured.captured_queries)
    return {"wall_ms": wall * 1000 / rounds, "cpu_ms": cpu * 1000 / rounds, "queries": queries}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    started = time.perf_counter()
    admin = organization_make(args.members)
    print(
        f"{args.members} members made in {time.perf_counter() - started:.1f} s "
        f"({connection.vendor})"
    )

    client = Client()
    client.force_login(admin)
    session = client.session
    session[METHOD_KEY] = "sms"
    session.save()

    url = "/organizations/bench/members/"
    last = (args.members + 1 + PER_PAGE - 1) // PER_PAGE
    plan = [
        ("first page", url),
        ("middle page", f"{url}?page={last // 2}"),
        ("last page", f"{url}?page={last}"),
        ("search 'member0099'", f"{url}?q=member0099"),
        ("search, no match", f"{url}?q=nobody-at-all"),
    ]
    for _, view_url in plan:  # warm up templates and caches
        measure(client, view_url, 2)
    print(f"{'view':24} {'ms':>8} {'CPU ms':>8} {'queries':>8}")
    for name, view_url in plan:
        result = measure(client, view_url, args.rounds)
        print(f"{name:24} {result['wall_ms']:8.2f} {result['cpu_ms']:8.2f} {result['queries']:8d}")


if __name__ == "__main__":
    main()
