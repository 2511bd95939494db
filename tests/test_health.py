"""/healthz: 200 while the database answers, 503 when it does not, and never a session."""

from django.db import OperationalError, connections


def test_healthz_answers_ok_with_one_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):  # SELECT 1
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


def test_healthz_neither_reads_nor_sets_a_session(client, make_user, django_assert_num_queries):
    client.force_login(make_user())
    with django_assert_num_queries(1):  # SELECT 1; the session row and the user are not read
        response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert not response.cookies


def test_healthz_needs_no_sign_in_and_no_csrf_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/healthz").status_code == 200
    assert strict.head("/healthz").status_code == 200


def test_healthz_is_not_redirected_to_https(client, db, settings):
    """Probes talk to the app server directly, over HTTP; every page is still redirected."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/signin/").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_healthz_checks_the_host_against_allowed_hosts(client, db):
    assert client.get("/healthz", HTTP_HOST="evil.example").status_code == 400


def test_healthz_answers_503_when_the_database_does_not_answer(client, db, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connections["default"], "cursor", unreachable)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable\n"
