"""Two requests of one browser around a new session key (accounts.session_store): the code
step's answer signs the member in and gives the session a new key, renaming its row, while
another request of the same page still carries the old key (the page's script catalog, or
"Send again" pressed as well).

Real threads, each with its own PostgreSQL connection; the other request reads its session
just before or just after the rename, as it may on a busy server, and its answer arrives
last, after the one that gave the new key: whatever it says about the session cookie is
what the browser keeps. It never loses the new session by reading the old one, and a
request that wanted to write to the old one is either refused or told to sign in again.
"""

import copy
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.session_store import SessionStore
from mfa.views import SIGN_IN_AGAIN
from tests.helpers import page

OTHER = "other request"


def at_code_step(sign_in) -> Client:
    browser = Client(raise_request_exception=False)
    assert sign_in(client=browser)["Location"] == "/signin/code/"
    return browser


def same_browser(browser: Client) -> Client:
    """Another request of `browser`'s, with the cookies it has now."""
    other = Client(raise_request_exception=False)
    other.cookies = copy.deepcopy(browser.cookies)
    return other


def around_the_rename(monkeypatch, *, reads: str, other_request, code_step):
    """`other_request` in its own thread, reading its session `reads` "before" or "after"
    `code_step` renamed it; both answers, the other's last."""
    loaded, renamed = threading.Event(), threading.Event()
    real_load = SessionStore.load

    def load(self):
        if threading.current_thread().name != OTHER:
            return real_load(self)
        if reads == "after":
            renamed.wait(10)
        data = real_load(self)
        loaded.set()
        renamed.wait(10)  # answered after the new key went out
        return data

    monkeypatch.setattr(SessionStore, "load", load)
    answers = {}

    def run():
        try:
            answers["other"] = other_request()
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=OTHER)
    thread.start()
    if reads == "before":
        assert loaded.wait(10)
    answers["code"] = code_step()
    renamed.set()
    thread.join(20)
    assert not thread.is_alive()
    return answers["code"], answers["other"]


def cookie_of(response) -> str | None:
    """The session cookie that `response` gives the browser ("" deletes it), if any."""
    morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
    return None if morsel is None else morsel.value


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reads", ["before", "after"])
def test_a_script_loaded_with_the_old_key_leaves_the_new_session_alone(
    enrolled_member, sign_in, last_code, monkeypatch, reads
):
    enrolled_member()
    browser = at_code_step(sign_in)
    old_key = cookie_of(browser)
    script, code_step = same_browser(browser), same_browser(browser)

    signed_in, catalog = around_the_rename(
        monkeypatch,
        reads=reads,
        other_request=lambda: script.get("/i18n/js/"),
        code_step=lambda: code_step.post("/signin/code/", {"code": last_code()}),
    )

    assert signed_in["Location"] == "/"
    assert cookie_of(signed_in) not in (None, "", old_key)
    assert catalog.status_code == 200
    # Nothing to say about the cookie: read after the rename, the old key names no session,
    # but the browser holds the new key by now, and deleting "the" cookie would delete it.
    assert cookie_of(catalog) is None
    for answer in (signed_in, catalog):
        browser.cookies.update(answer.cookies)
    assert browser.get("/settings/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_send_again_read_before_the_rename_is_refused_and_the_sign_in_stands(
    enrolled_member, sign_in, last_code, monkeypatch
):
    enrolled_member()
    browser = at_code_step(sign_in)
    again, code_step = same_browser(browser), same_browser(browser)

    signed_in, resent = around_the_rename(
        monkeypatch,
        reads="before",
        other_request=lambda: again.post("/signin/code/resend/"),
        code_step=lambda: code_step.post("/signin/code/", {"code": last_code()}),
    )

    assert signed_in["Location"] == "/"
    # Its message for the old key's row, which has the new key now: the write finds no row
    # (SessionInterrupted), and the session is left as the sign-in made it.
    assert resent.status_code == 400
    assert cookie_of(resent) is None
    for answer in (signed_in, resent):
        browser.cookies.update(answer.cookies)
    assert browser.get("/settings/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_send_again_read_after_the_rename_is_told_to_sign_in_again(
    enrolled_member, sign_in, last_code, monkeypatch
):
    enrolled_member()
    browser = at_code_step(sign_in)
    again, code_step = same_browser(browser), same_browser(browser)

    signed_in, resent = around_the_rename(
        monkeypatch,
        reads="after",
        other_request=lambda: again.post("/signin/code/resend/"),
        code_step=lambda: code_step.post("/signin/code/", {"code": last_code()}),
    )

    assert signed_in["Location"] == "/"
    # The old key names no session any more, and nothing says which one took its place
    # (that is the point of a new key): a sign-in to start again, and the reason.
    assert resent["Location"] == "/signin/"
    assert cookie_of(resent) not in (None, "", cookie_of(signed_in))
    for answer in (signed_in, resent):
        browser.cookies.update(answer.cookies)
    assert str(SIGN_IN_AGAIN) in page(browser.get("/signin/"))


# The rule itself, on every database: a key that names no session is not "the" cookie to
# delete unless the request ended a session; sign-out still deletes it.


def test_a_key_that_names_no_session_is_left_alone_by_a_request_that_writes_nothing(db):
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = "k" * 32
    response = browser.get("/signin/")
    assert response.status_code == 200
    assert cookie_of(response) is None


def test_a_key_that_names_no_session_gets_a_new_one_from_a_request_that_writes(
    enrolled_member, sign_in
):
    enrolled_member()
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = "k" * 32
    assert sign_in(client=browser)["Location"] == "/signin/code/"
    assert cookie_of(browser) not in (None, "", "k" * 32)


def test_sign_out_still_deletes_the_cookie(make_member):
    browser = Client()
    browser.force_login(make_member())
    response = browser.post("/signout/")
    assert cookie_of(response) == ""
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0
