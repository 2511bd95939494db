"""A button of a sign-in step pressed twice, the way a double-click does: the second press
must not send the form again while the first answer is on its way.

A second submission makes the browser drop the first request's answer (its navigation is
replaced), though the server has done all that it asked: signed in under a new session key,
sent a code. The second request then carries what the browser had before, and its answer is
the one the browser keeps: with the old key after the code step renamed the session, "Your
sign-in timed out" and a session of its own (tests/accounts/test_session_races.py has it at
the request level). static/js/submit-once.js holds the page's sign-in forms once one is
sent.

To make "while the first answer is on its way" certain rather than a matter of timing, the
server holds back the first POST's answer, complete (its session saved and committed),
until the test lets it go.
"""

import threading
import time

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from playwright.sync_api import expect

from tests.browser.steps import expect_home, label, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


class HeldAnswer:
    """The next POST's answer, held back once it is complete until `release()`."""

    def __init__(self):
        self.armed = False
        self.ready = threading.Event()
        self.released = threading.Event()
        self.posts = 0

    def arm(self):
        self.armed, self.posts = True, 0
        self.ready.clear()
        self.released.clear()

    def release(self):
        self.released.set()


@pytest.fixture
def held_answer(monkeypatch):
    held = HeldAnswer()
    lock = threading.Lock()
    real = SessionMiddleware.process_response

    def process_response(self, request, response):
        response = real(self, request, response)  # the session saved: all is written
        if request.method == "POST" and held.armed:
            with lock:
                held.posts += 1
                first = held.posts == 1
            if first:
                held.ready.set()
                held.released.wait(10)
        return response

    monkeypatch.setattr(SessionMiddleware, "process_response", process_response)
    yield held
    held.release()  # never leave a server thread waiting


def press_twice(person, held, button):
    """Press `button`, and press it again while the server holds the first answer back;
    then let the answer go."""
    page = person.page
    held.arm()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # The mouse through the DevTools protocol: Playwright's own clicks wait for the
    # navigation that the first press started, which is what stays on its way here. (So
    # does any look at the page meanwhile: the last test looks at a held page.)
    devtools = person.context.new_cdp_session(page)

    def press():
        for kind in ("mousePressed", "mouseReleased"):
            devtools.send("Input.dispatchMouseEvent", {
                "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1,
            })

    press()
    assert held.ready.wait(5), "the first press sent nothing"
    press()
    time.sleep(0.3)  # time for a second request, if one went
    held.release()
    page.wait_for_load_state()


def test_continue_pressed_twice_signs_in_once(person, enrolled_member, sms_inbox, held_answer):
    enrolled_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())

    press_twice(person, held_answer, page.get_by_role("button", name="Continue"))

    # Without the guard: the sign-in page, "Your sign-in timed out".
    expect_home(page, "Ada")
    assert held_answer.posts == 1
    person.goto("/settings/")
    expect(page.get_by_role("heading", name="Personal settings")).to_be_visible()


def test_sign_in_pressed_twice_sends_one_code_that_works(
    person, enrolled_member, sms_inbox, held_answer
):
    enrolled_member(email="ada@example.com")
    page = person.page
    person.goto("/signin/")
    page.get_by_label(label("Email")).fill("ada@example.com")
    page.get_by_label(label("Password")).fill(PASSWORD)

    press_twice(person, held_answer, page.get_by_role("button", name="Sign in", exact=True))

    # Without the guard: a second pending sign-in, whose code the cooldown holds back (the
    # one sent was for the first), and a message that says to wait.
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.locator(".messages")).to_have_count(0)
    assert held_answer.posts == 1
    assert len(sms_inbox.messages()) == 1
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    page.get_by_role("button", name="Continue").click()
    expect_home(page, "Ada")


def test_send_again_pressed_twice_sends_one_code(
    person, enrolled_member, sms_inbox, clock, held_answer
):
    enrolled_member(email="ada@example.com")
    page = person.page
    page.clock.install()
    sign_in(person, "ada@example.com")
    clock.advance(seconds=31)
    page.clock.fast_forward(31_000)
    send_again = page.get_by_role("button", name="Send again")
    expect(send_again).to_be_enabled()

    press_twice(person, held_answer, send_again)

    # Without the guard: "A new code is on its way." and "You can ask for another in 30
    # seconds." together.
    expect(page.get_by_role("status")).to_have_text("A new code is on its way.")
    person.check()
    assert held_answer.posts == 1
    assert len(sms_inbox.messages()) == 2
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    page.get_by_role("button", name="Continue").click()
    expect_home(page, "Ada")


def test_a_held_page_shows_it_and_lets_go_when_it_comes_back(
    person, enrolled_member, sms_inbox
):
    """The page while an answer is on its way, as a person sees it (the answer kept from
    coming, here, by the page itself); and the same page brought back by the back button
    from the back-forward cache, which shows it as it was left."""
    enrolled_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    page.evaluate("""() => {
        window.submissions = 0;
        window.keepHere = event => {
            window.submissions += event.defaultPrevented ? 0 : 1;
            event.preventDefault();
        };
        window.addEventListener("submit", window.keepHere);
    }""")
    continue_, send_again = (
        page.get_by_role("button", name="Continue"), page.get_by_role("button", name="Send again")
    )

    continue_.click()
    expect(continue_).to_have_attribute("aria-disabled", "true")
    expect(send_again).to_have_attribute("aria-disabled", "true")
    person.check("code-sending")
    # Pressed again (Playwright's click would wait for an aria-disabled button to be
    # enabled: force it), and Enter in the field: nothing more is sent.
    continue_.click(force=True)
    page.get_by_label(label("Code")).press("Enter")
    assert page.evaluate("window.submissions") == 1

    page.evaluate("""() => {
        window.removeEventListener("submit", window.keepHere);
        window.dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true}));
    }""")
    expect(continue_).not_to_have_attribute("aria-disabled", "true")
    continue_.click()
    expect_home(page, "Ada")
