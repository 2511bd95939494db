"""The benchmarks are scripts, not timed tests; this runs benchmarks/signin.py with tiny
counts so that it cannot rot, and checks what it reports, not how fast."""

import json
import subprocess
import sys

from django.conf import settings

from tests.mfa.test_query_counts import FLOW_QUERIES


def test_the_signin_benchmark_runs_every_complete_flow_to_the_end(tmp_path):
    figures = tmp_path / "signin.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.signin",
            "--rounds",
            "2",
            "--warmup",
            "1",
            "--steps",
            "--json",
            figures,
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {row["key"]: row for row in json.loads(figures.read_text())}

    # Every flow, each request of it, the texts it sent; each one ended signed in (a flow
    # that does not raises, and the script fails).
    assert list(rows) == ["floor", "login", "remembered", "enroll"]
    assert {key: row["requests"] for key, row in rows.items()} == {
        "floor": 3,
        "login": 5,
        "remembered": 3,
        "enroll": 7,
    }
    assert [step["step"] for step in rows["enroll"]["request_steps"]] == [
        "GET /signin/",
        "POST /signin/",
        "GET /signin/phone/",
        "POST /signin/phone/",
        "GET /signin/code/",
        "POST /signin/code/",
        "GET /",
    ]
    assert {key: row["sms"] for key, row in rows.items()} == {
        "floor": 0,
        "login": 1,
        "remembered": 0,
        "enroll": 1,
    }
    assert all(row["signed_in"] and row["flows"] == 2 for row in rows.values())
    # The queries it prints are the ones the tests pin.
    assert {key: rows[key]["queries"] for key in FLOW_QUERIES} == FLOW_QUERIES
    assert rows["floor"]["cpu_ratio"] == 1.0

    table = result.stdout
    for row in rows.values():
        assert f"| {row['flow']} | {row['requests']} | {row['queries']} |" in table
