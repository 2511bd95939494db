"""Complete sign-ins under load, over real HTTP, against scripts/serve on PostgreSQL.

    .venv/bin/python -m benchmarks.load [--workers 2] [--flows 200] [--concurrency 8]
                                        [--rounds 3] [--time-limit 600]

Makes a scratch database (bench_load, dropped at the end) on the PostgreSQL server of
--postgres, serves the app on it with scripts/serve (gunicorn, --workers processes, on
127.0.0.1 only; benchmarks.settings adds Django's bare LoginView and the MD5 hasher),
creates the members through the ORM, and then, --rounds times, drives --flows sign-ins
of each kind, --concurrency at a time, each from a browser of its own (tests.serving):

- Django's bare LoginView: GET its page, POST email and password, GET the home page;
- ours, password + SMS code: GET the sign-in page, POST email and password (the code is
  sent), GET the code page, POST the code read from the SMS file, GET the home page.

Every flow must end on the home page, signed in. Prints flows per second, p50 and p95 of
each step, errors, and the CPU per flow of the server (gunicorn's master and workers)
and of PostgreSQL (the backends of the scratch database), from /proc/<pid>/stat, taken
around each round's flows of one kind. The kinds take turns round by round, so that a
machine whose speed drifts slows both alike. It stops by itself: after the flows, or at
--time-limit seconds, whichever comes first (flows not started by then are not run).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.serving import (
    Browser,
    Server,
    SmsOutbox,
    location,
    page,
    serving,
    site_env,
    smtp_sink,
)

DATABASE = "bench_load"
PASSWORD = "correct horse battery"  # noqa: S105
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TARGET = 2.5  # issue 12: server CPU per complete sign-in within 2.5x the bare LoginView's


# CPU from /proc -----------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User plus system CPU of process `pid` so far; 0 for one that is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pid:
                found.append(int(entry))
    return found


@dataclass
class Meter:
    """CPU of the server's processes and of the scratch database's backends, per pid."""

    server: Server
    watcher: psycopg.Connection

    def processes(self) -> tuple[list[int], list[int]]:
        backends = [
            pid for (pid,) in self.watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DATABASE]
            )
        ]
        return [self.server.pid, *children(self.server.pid)], backends

    def read(self) -> dict[str, dict[int, float]]:
        server, backends = self.processes()
        return {
            "server": {pid: cpu_seconds(pid) for pid in server},
            "postgres": {pid: cpu_seconds(pid) for pid in backends},
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        # A process that started meanwhile (a new connection) spent all of its CPU in it.
        return {
            kind: sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items())
            for kind in after
        }


# The flows ----------------------------------------------------------------------------------
class FlowError(Exception):
    pass


@dataclass
class Member:
    email: str
    number: str
    ip: str
    short_name: str = "Bench"


def expect(response, status: int, where: str = "") -> None:
    if response.status_code != status or (where and location(response) != where):
        raise FlowError(
            f"{response.status_code} {location(response)!r}, expected {status} {where!r}"
        )


def signed_in(browser: Browser, server: Server, member: Member) -> None:
    response = browser.get(server, "/")
    expect(response, 200)
    if f"Welcome, {member.short_name}" not in page(response):
        raise FlowError("the home page does not greet the member: not signed in")


def login_view(browser, server, member, step, outbox):
    step("GET LoginView page", lambda: expect(browser.get(server, "/django-login/"), 200))
    step("POST email + password", lambda: expect(browser.post(
        server, "/django-login/", {"username": member.email, "password": PASSWORD}
    ), 302, "/"))
    step("GET home page", lambda: signed_in(browser, server, member))


def password_and_sms(browser, server, member, step, outbox):
    step("GET sign-in page", lambda: expect(browser.get(server, "/signin/"), 200))
    step("POST email + password", lambda: expect(browser.post(
        server, "/signin/", {"email": member.email, "password": PASSWORD}
    ), 302, "/signin/code/"))
    codes = outbox.codes(member.number)
    if len(codes) != 1:
        raise FlowError(f"expected one text to {member.number}, found {len(codes)}")
    step("GET code page", lambda: expect(browser.get(server, "/signin/code/"), 200))
    step("POST code", lambda: expect(
        browser.post(server, "/signin/code/", {"code": codes[0]}), 302, "/"
    ))
    step("GET home page", lambda: signed_in(browser, server, member))


FLOWS = {"Django LoginView": login_view, "password + SMS code": password_and_sms}


@dataclass
class Results:
    flows: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def run_flows(flow: Callable, members: list[Member], server: Server, outbox: SmsOutbox,
              results: Results | None, *, concurrency: int, deadline: float) -> None:
    """`flow` once for each member, `concurrency` at a time; counted in `results` unless
    None (the warm-up)."""

    def one(member: Member) -> None:
        if time.monotonic() > deadline:
            return
        timings = []

        def step(name, action):
            started = time.perf_counter()
            action()
            timings.append((name, time.perf_counter() - started))

        try:
            flow(Browser(ip=member.ip, timeout=30), server, member, step, outbox)
        except (FlowError, OSError) as error:
            if results is not None:
                results.errors.append(f"{member.email}: {error}")
            return
        if results is not None:
            results.flows += 1
            for name, seconds in timings:
                results.steps[name].append(seconds)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, members))


# Set-up -------------------------------------------------------------------------------------
def members_create(prefix: str, count: int, first: int) -> list[Member]:
    """`count` members of one organization, each with a phone and an IP of their own: the
    limits count sends per member, number, block of 100 numbers and client IP, and with
    everyone at one address the IP's limit would refuse the 11th code."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from mfa.models import SmsDevice
    from organizations.models import Membership, Organization

    organization, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    hashed = make_password(PASSWORD)  # one hash for all: the same cost to check for each
    members = []
    for n in range(first, first + count):
        members.append(Member(
            email=f"{prefix}{n}@bench.example", number=f"+4179{1_000_000 + 100 * n:07d}",
            ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        ))
    users = User.objects.bulk_create(
        User(email=m.email, password=hashed, full_name="Bench Mark") for m in members
    )
    Membership.objects.bulk_create(Membership(user=u, organization=organization) for u in users)
    SmsDevice.objects.bulk_create(
        SmsDevice(user=u, name="Mobile phone", number=m.number, confirmed=True)
        for u, m in zip(users, members, strict=True)
    )
    return members


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: dict[str, Results], *, workers: int, concurrency: int) -> None:
    print(f"\n{workers} worker(s), {concurrency} browsers at a time, PostgreSQL, 127.0.0.1\n")
    print("| flow, then each step | flows/s | p50 ms | p95 ms | server CPU ms/flow "
          "| PostgreSQL CPU ms/flow | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        per = {kind: 1000 * cpu / r.flows if r.flows else 0.0 for kind, cpu in r.cpu.items()}
        totals = [sum(flow) for flow in zip(*r.steps.values(), strict=True)]
        print(f"| {name} ({r.flows} flows) | {r.flows / r.seconds:.1f} "
              f"| {1000 * statistics.median(totals):.1f} | {1000 * percentile(totals, .95):.1f} "
              f"| {per['server']:.2f} | {per['postgres']:.2f} | {len(r.errors)} |")
        for step, seconds in r.steps.items():
            print(f"| &nbsp;&nbsp;{step} | | {1000 * statistics.median(seconds):.1f} "
                  f"| {1000 * percentile(seconds, .95):.1f} | | | |")
    floor, ours = results["Django LoginView"], results["password + SMS code"]
    if floor.flows and ours.flows:
        ratios = {
            kind: (ours.cpu[kind] / ours.flows) / (floor.cpu[kind] / floor.flows)
            for kind in ("server", "postgres")
        }
        met = "met" if ratios["server"] <= TARGET else "not met"
        print(f"\nserver CPU per sign-in: {ratios['server']:.2f}x the LoginView's "
              f"(target <= {TARGET}x: {met}); PostgreSQL: {ratios['postgres']:.2f}x")
    for name, r in results.items():
        for error in r.errors[:5]:
            print(f"error ({name}): {error}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--flows", type=int, default=200, help="flows of each kind per round")
    parser.add_argument("--concurrency", type=int, default=8, help="browsers at a time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20, help="flows of each kind, not counted")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds, all in")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server, as the URL of its maintenance database")
    parser.add_argument("--hasher", choices=["md5", "default"], default="md5")
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit

    maintenance = urlsplit(args.postgres)
    if maintenance.hostname not in {"127.0.0.1", "localhost"}:
        sys.exit("benchmarks.load: the PostgreSQL server must be on 127.0.0.1")
    scratch = maintenance._replace(path=f"/{DATABASE}").geturl()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    with psycopg.connect(args.postgres, autocommit=True) as watcher, smtp_sink() as smtp:
        watcher.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        watcher.execute(f"CREATE DATABASE {DATABASE}")
        env = site_env(
            sms_dir=tmp / "sms", smtp_port=smtp.server_address[1], DATABASE_URL=scratch,
            GUNICORN_WORKERS=str(args.workers), DJANGO_SETTINGS_MODULE="benchmarks.settings",
            BENCH_HASHER=args.hasher,
        )
        try:
            with serving(env, tmp / "server.log", timeout=180) as server:
                print(f"serving with {args.workers} worker(s) at {server.base}; "
                      f"log in {tmp / 'server.log'}", file=sys.stderr)
                measure(args, env, server, watcher, SmsOutbox(tmp / "sms"), deadline)
        finally:
            watcher.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def measure(args, env, server, watcher, outbox, deadline) -> None:
    # This process makes the members through the ORM, with the server's own settings.
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    per_kind = args.warmup + args.flows * args.rounds
    members = {
        name: members_create(f"m{index}-", per_kind, first=index * per_kind)
        for index, name in enumerate(FLOWS)
    }
    connection.close()  # its backend idles from now on, and is not one of the server's
    for name, flow in FLOWS.items():
        run_flows(flow, members[name][:args.warmup], server, outbox, None,
                  concurrency=args.concurrency, deadline=deadline)

    meter = Meter(server, watcher)
    results = {name: Results() for name in FLOWS}
    for round_ in range(args.rounds):
        for name, flow in FLOWS.items():
            start = args.warmup + round_ * args.flows
            before, started = meter.read(), time.monotonic()
            run_flows(flow, members[name][start:start + args.flows], server, outbox,
                      results[name], concurrency=args.concurrency, deadline=deadline)
            results[name].seconds += time.monotonic() - started
            for kind, cpu in Meter.spent(before, meter.read()).items():
                results[name].cpu[kind] += cpu
    report(results, workers=args.workers, concurrency=args.concurrency)


if __name__ == "__main__":
    main()
