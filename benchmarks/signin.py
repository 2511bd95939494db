"""Complete sign-ins as a browser makes them, in one process: CPU and queries per flow,
as ratios to Django's bare LoginView measured in the same run.

    .venv/bin/python -m benchmarks.signin [--rounds 200] [--warmup 20] [--steps]
                                          [--json FILE] [--sql DIR]

The flows (benchmarks.flows), every GET and POST, through django.test.Client with CSRF
enforced, each redirect followed by the GET a browser makes:

- Django's LoginView, the floor: GET its page, POST email and password, GET the home page;
- password + SMS code: GET the sign-in page, POST the password (the code is sent), GET the
  code form, POST the code, GET the home page;
- remembered browser: after an earlier sign-in that ticked "Remember me for 14 days" and a
  closed browser (not measured), GET the sign-in page, POST the password, GET the home page;
- first enrollment: GET the sign-in page, POST the password, GET the phone form, POST the
  phone (the code is sent), GET the code form, POST the code, GET the home page.

The settings are production's (backstage.settings read without DEBUG, with the whole
middleware, whitenoise's manifest of static files, the SMS limits) through
benchmarks.settings, which adds the LoginView and the MD5 password hasher: Django's
PBKDF2 costs the same in every flow and would be nearly all of the CPU measured. The stand-ins
are the test suite's, set before the settings are read: text messages and emails stay in
this process (locmem), plain HTTP (SECURE_SSL_REDIRECT=0), and a SQLite file in a
temporary directory, deleted at the end, with the static files collected beside it.

The kinds take turns flow by flow, --rounds times after --warmup unmeasured rounds, so that
a machine whose speed drifts slows each alike. Per flow: process CPU (the test client's
side included) as median and 95th percentile, the CPU inside Django's request handling
alone, wall time, requests and SQL statements (BEGIN, COMMIT and ROLLBACK included, as
django_assert_num_queries counts them). Compare ratios within one run, not milliseconds
across runs. The tables are Markdown, to paste into the README as they are.
"""

import argparse
import atexit
import gc
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter, process_time

TEMP = Path(tempfile.mkdtemp(prefix="bench-signin-"))
atexit.register(shutil.rmtree, TEMP, ignore_errors=True)
# Not setdefault: whatever the shell says, codes must stay in this process and the database
# must be the scratch file.
os.environ.update(
    DJANGO_SETTINGS_MODULE="benchmarks.settings",
    DEBUG="0",
    SMS_BACKEND="locmem",
    EMAIL_BACKEND="locmem",
    SECURE_SSL_REDIRECT="0",
    SITE_URL="http://testserver",
    DATABASE_URL=f"sqlite:///{TEMP / 'db.sqlite3'}",
)
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-any-real-deployment")

import django
from django.conf import settings

settings.STATIC_ROOT = TEMP / "static"  # before anything reads it; collected below
django.setup()

from django.core.management import call_command
from django.db import connection
from django.test.client import Client, ClientHandler
from django.test.utils import CaptureQueriesContext

from benchmarks.flows import FLOOR, FLOWS, Browser, Flow, Member, members_create
from mfa import sms


class QueryCounter:
    """Counts SQL statements as CaptureQueriesContext does (those sent through Django's
    cursors, plus COMMIT and ROLLBACK) without the debug cursor, whose formatting of every
    statement would be measured too. The run checks both counts agree (check_counts)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # an execute_wrapper
        self.count += 1
        return execute(sql, params, many, context)

    def _counted(self, method):
        def call(*args, **kwargs):
            self.count += 1
            return method(*args, **kwargs)

        return call

    def __enter__(self):
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        for name in ("commit", "rollback"):  # shadow the bound methods of this connection
            setattr(connection, name, self._counted(getattr(connection, name)))
        return self

    def __exit__(self, *exc):
        for name in ("commit", "rollback"):
            delattr(connection, name)
        return self._wrapper.__exit__(*exc)


@dataclass
class Request:
    step: str
    cpu: float
    queries: int


class TimedHandler(ClientHandler):
    """The server's side of the test client, timed: request, middleware, view, response.
    One handler serves every browser, so the middleware chain is built once, as in a
    long-running server process."""

    def __init__(self, counter: QueryCounter):
        super().__init__(enforce_csrf_checks=True)
        self.counter = counter
        self.requests: list[Request] = []

    def __call__(self, environ, **kwargs):
        queries, start = self.counter.count, process_time()
        try:
            return super().__call__(environ, **kwargs)
        finally:
            step = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
            self.requests.append(
                Request(step, process_time() - start, self.counter.count - queries)
            )


@dataclass
class Sample:
    cpu: float  # the whole flow, in this process: server and test client
    server_cpu: float  # inside the handler only
    wall: float
    queries: int
    requests: list[Request]
    texts: int  # text messages sent


@dataclass
class Results:
    flow: Flow
    samples: list[Sample] = field(default_factory=list)


def browser_ready(flow: Flow, member: Member, handler: TimedHandler) -> Browser:
    """A new browser for `member`, served by `handler`, after the flow's prime if it has one."""
    client = Client()
    client.handler = handler
    browser = Browser(member, client=client)
    if flow.prime:
        flow.prime(browser, member)
    return browser


def flow_once(
    flow: Flow, member: Member, browser: Browser, handler: TimedHandler, counter: QueryCounter
) -> Sample:
    handler.requests = []
    texts, queries = len(sms.outbox), counter.count
    cpu, wall = process_time(), perf_counter()
    flow.run(browser, member)
    cpu, wall = process_time() - cpu, perf_counter() - wall
    return Sample(
        cpu=cpu,
        server_cpu=sum(r.cpu for r in handler.requests),
        wall=wall,
        queries=counter.count - queries,
        requests=list(handler.requests),
        texts=len(sms.outbox) - texts,
    )


def check_counts(handler: TimedHandler, counter: QueryCounter, sql: Path | None) -> None:
    """One more flow of each kind under CaptureQueriesContext: its count must be the
    counter's (and its SQL is written to `sql`, if given, for reading)."""
    for flow in FLOWS:
        member = members_create(1, phone=flow.phone)[0]
        browser = browser_ready(flow, member, handler)
        with CaptureQueriesContext(connection) as captured:
            sample = flow_once(flow, member, browser, handler, counter)
        if len(captured) != sample.queries:
            sys.exit(f"{flow.name}: counted {sample.queries} queries, Django saw {len(captured)}")
        if sql:
            sql.mkdir(parents=True, exist_ok=True)
            (sql / f"{flow.key}.sql").write_text(
                "".join(f"{q['sql']};\n" for q in captured.captured_queries)
            )


def measure(rounds: int, warmup: int, handler: TimedHandler, counter: QueryCounter):
    members = {flow.name: members_create(warmup + rounds, phone=flow.phone) for flow in FLOWS}
    results = {flow.name: Results(flow) for flow in FLOWS}
    gc.collect()  # the set-up's garbage is not the flows'
    for n in range(warmup + rounds):
        for flow in FLOWS:
            member = members[flow.name][n]
            browser = browser_ready(flow, member, handler)
            sample = flow_once(flow, member, browser, handler, counter)
            if n >= warmup:
                results[flow.name].samples.append(sample)
    return list(results.values())


# Report -------------------------------------------------------------------------------------
def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def count(values: list[int]) -> int | float:
    """A count per flow: the number when every flow had the same, else the mean."""
    return values[0] if min(values) == max(values) else round(statistics.fmean(values), 1)


def summary(r: Results, floor: Results) -> dict:
    cpu = statistics.median(s.cpu for s in r.samples)
    server = statistics.median(s.server_cpu for s in r.samples)
    return {
        "key": r.flow.key,
        "flow": r.flow.name,
        "steps": r.flow.steps,
        "flows": len(r.samples),
        "requests": count([len(s.requests) for s in r.samples]),
        "queries": count([s.queries for s in r.samples]),
        "sms": count([s.texts for s in r.samples]),
        "cpu_ms": cpu * 1000,
        "cpu_p95_ms": p95([s.cpu for s in r.samples]) * 1000,
        "server_cpu_ms": server * 1000,
        "wall_ms": statistics.median(s.wall for s in r.samples) * 1000,
        "cpu_ratio": cpu / statistics.median(s.cpu for s in floor.samples),
        "server_cpu_ratio": server / statistics.median(s.server_cpu for s in floor.samples),
        "signed_in": True,  # each flow raised FlowError otherwise
        "request_steps": [
            {
                "step": step[0].step,
                "server_cpu_ms": statistics.median(s.requests[i].cpu for s in r.samples) * 1000,
                "queries": count([s.requests[i].queries for s in r.samples]),
            }
            for i, step in enumerate(zip(*(s.requests for s in r.samples), strict=True))
        ],
    }


def commit() -> str:
    try:
        return subprocess.run(  # noqa: S603 (git, with arguments of our own)
            ["git", "-C", str(settings.BASE_DIR), "describe", "--always", "--dirty"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(rows: list[dict], *, rounds: int, warmup: int, load: tuple, steps: bool) -> str:
    lines = [
        f"benchmarks.signin, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}: "
        f"{rounds} flows of each kind after {warmup} warm-up, taking turns; Python "
        f"{platform.python_version()}, Django {django.get_version()}, SQLite, MD5 hasher, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after",
        "",
        "| flow | requests | queries | SMS | CPU ms (median) | p95 | server CPU ms "
        "| wall ms | CPU / floor | server CPU / floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['flow']} | {row['requests']} | {row['queries']} | {row['sms']} "
            f"| {row['cpu_ms']:.2f} | {row['cpu_p95_ms']:.2f} | {row['server_cpu_ms']:.2f} "
            f"| {row['wall_ms']:.2f} | {row['cpu_ratio']:.2f} | {row['server_cpu_ratio']:.2f} |"
        )
        if steps:
            for step in row["request_steps"]:
                lines.append(
                    f"| &nbsp;&nbsp;{step['step']} | | {step['queries']} | | | "
                    f"| {step['server_cpu_ms']:.2f} | | | |"
                )
    lines += ["", *(f"- {row['flow']}: {row['steps']}" for row in rows)]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=200, help="measured flows of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured flows of each first")
    parser.add_argument("--steps", action="store_true", help="also each request's row")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--sql", type=Path, metavar="DIR", help="write one flow's SQL per kind")
    args = parser.parse_args()
    if args.rounds < 1 or args.warmup < 0:
        parser.error("need --rounds >= 1 and --warmup >= 0")

    load = os.getloadavg()
    # Log lines would measure the terminal they are written to, not the sign-in.
    logging.disable(logging.INFO)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    counter = QueryCounter()
    handler = TimedHandler(counter)
    with counter:
        results = measure(args.rounds, args.warmup, handler, counter)
        check_counts(handler, counter, args.sql)
    connection.close()  # before the scratch directory goes (atexit)

    floor = next(r for r in results if r.flow is FLOOR)
    rows = [summary(r, floor) for r in results]
    print(report(rows, rounds=args.rounds, warmup=args.warmup, load=load, steps=args.steps))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
