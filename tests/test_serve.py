"""scripts/serve for real: it refuses an unsafe configuration; on PostgreSQL, gunicorn
answers /healthz, keeps its database connection between requests and replaces it when the
database drops it."""

import subprocess
import time

import psycopg
import pytest
from django.conf import settings

from tests.serving import ROOT, database_url, serve_env, serving, status_of

# The server's connections carry this name, so that the tests find them in pg_stat_activity.
APPLICATION_NAME = "backstage-serve-test"


def refused(*, without: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    """scripts/serve on a configuration it must refuse: it stops before any database use,
    so the PostgreSQL address need not answer."""
    result = subprocess.run(
        [ROOT / "scripts" / "serve"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=serve_env(
            without=without, **{"DATABASE_URL": "postgres://backstage@127.0.0.1:9/unused"} | env
        ),
        check=False,
    )
    assert result.returncode != 0, result.stdout
    return result


def test_serve_refuses_a_database_other_than_postgresql():
    result = refused(DATABASE_URL="sqlite:///var/db.sqlite3")
    assert "set DATABASE_URL to the PostgreSQL database" in result.stderr


def test_serve_refuses_the_settings_unsafe_configuration_even_with_debug_asked():
    assert "set SECRET_KEY" in refused(without=("SECRET_KEY",), DEBUG="1").stderr


def test_serve_refuses_what_the_deployment_checklist_warns_about():
    result = refused(SECURE_SSL_REDIRECT="0")
    assert "security.W008" in result.stderr + result.stdout


def database_name() -> str:
    return settings.DATABASES["default"]["NAME"]  # the test database, once made


@pytest.fixture(scope="module")
def database(django_db_setup):
    """The suite's test database (made and migrated by pytest-django), and a connection
    of the test's own to watch and cut the server's: to the maintenance database, like
    Django's own when it creates the test database, since none may shut its own out."""
    db = settings.DATABASES["default"]
    url = database_url(db, application_name=APPLICATION_NAME)
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
        password=db["PASSWORD"], dbname="postgres", autocommit=True,
    ) as watcher:
        yield url, watcher


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    url, _ = database
    env = serve_env(
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=url,
        GUNICORN_WORKERS="1",  # one worker, one connection to watch
    )
    with serving(env, tmp_path_factory.mktemp("serve") / "server.log") as served:
        yield served.base


def server_backends(watcher) -> list[int]:
    return [
        pid for (pid,) in watcher.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = %s",
            [APPLICATION_NAME, database_name()],
        )
    ]


def cut(watcher, pids: list[int]) -> None:
    """Terminate these backends as a database restart would, and wait until they are gone."""
    for pid in pids:
        watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while set(pids) & set(server_backends(watcher)):
        assert time.monotonic() < deadline, "the backends outlived pg_terminate_backend"
        time.sleep(0.05)


@pytest.mark.postgres
def test_served_app_keeps_one_database_connection_between_requests(server, database):
    _, watcher = database
    assert status_of(f"{server}/healthz") == 200
    first = server_backends(watcher)
    assert len(first) == 1
    for _ in range(3):
        assert status_of(f"{server}/healthz") == 200
    assert server_backends(watcher) == first


@pytest.mark.postgres
def test_next_request_answers_after_the_database_drops_the_connection(server, database):
    _, watcher = database
    assert status_of(f"{server}/healthz") == 200
    dropped = server_backends(watcher)
    cut(watcher, dropped)
    # The health check before the request's first query finds the connection dead and
    # opens another: this request is answered, not failed.
    assert status_of(f"{server}/healthz") == 200
    replacement = server_backends(watcher)
    assert len(replacement) == 1 and replacement != dropped


@pytest.mark.postgres
def test_healthz_answers_503_while_the_database_is_down_and_200_once_back(server, database):
    _, watcher = database
    assert status_of(f"{server}/healthz") == 200
    watcher.execute(f'ALTER DATABASE "{database_name()}" WITH ALLOW_CONNECTIONS false')
    try:
        cut(watcher, server_backends(watcher))
        assert status_of(f"{server}/healthz") == 503
    finally:
        watcher.execute(f'ALTER DATABASE "{database_name()}" WITH ALLOW_CONNECTIONS true')
    assert status_of(f"{server}/healthz") == 200
