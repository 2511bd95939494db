"""Real-browser tests: Playwright (sync API) driving Debian's Chromium against `live_server`.

One Chromium for the run, a new context (a fresh profile: no cookies) per test. Every page a
test looks at, in every state it reaches, goes through `Browser.check` at 375 and 1440 px:
no CSP violation, no sideways scrolling, axe-core's WCAG 2.1 A and AA rules with zero
violations, and a screenshot of each in test-artifacts/.
"""

import email
import email.policy
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NODE_MODULES = Path(django_settings.BASE_DIR) / "node_modules"
SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"
WIDTHS = (375, 1440)
DESKTOP = {"width": 1440, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# The cookies need no test-only names: outside DEBUG they are __Host- and Secure, and
# Chromium keeps such cookies on http://localhost, which it treats as a secure context.


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests, closed once they are done.

    Package scope rather than session: the whole suite runs them together anyway, and the
    rest of the suite then runs without Playwright's event loop and the setting below.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(apt-get install chromium fonts-liberation; scripts/setup does it as root). "
            'Meanwhile, -m "not browser" runs the others (scripts/test does that itself).'
        )
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an asyncio loop running in this thread, so Django would
        # take the tests' own ORM calls for calls from async code and refuse them; they are not.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(scope="session")
def axe_path():
    path = NODE_MODULES / "axe-core" / "axe.min.js"
    if not path.exists():
        pytest.fail("axe-core is missing: run scripts/setup (npm ci).")
    return path


@pytest.fixture(scope="session")
def _screenshots_taken():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return set()


@pytest.fixture
def outbox_dirs(tmp_path):
    return {"sms": tmp_path / "sms", "email": tmp_path / "email"}


@pytest.fixture(autouse=True)
def _browser_settings(request):
    """For browser tests, SMS and email go to files, which the tests read like a person
    reads their phone, and links in them point to the live server."""
    if request.node.get_closest_marker("browser") is None:
        return
    settings = request.getfixturevalue("settings")
    outbox_dirs = request.getfixturevalue("outbox_dirs")
    settings.SITE_URL = request.getfixturevalue("live_server").url
    settings.SMS_BACKEND = "mfa.sms.filebased.SmsBackend"
    settings.SMS_FILE_PATH = outbox_dirs["sms"]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(outbox_dirs["email"])},
        }
    }


class Browser:
    """A person at one browser: a Playwright context, its page, and what the console said."""

    def __init__(self, context, base_url, screenshots_taken, *, javascript: bool):
        self.context = context
        self.javascript = javascript
        self.base_url = base_url
        self.screenshots_taken = screenshots_taken
        self.console: list[str] = []
        self.page: Page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _console(self, message):
        if message.type in {"error", "warning"}:
            self.console.append(f"{message.type}: {message.text}")

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def csp_violations(self) -> list[str]:
        return [
            line
            for line in self.console
            if "Content Security Policy" in line or "Content-Security-Policy" in line
        ]

    def check(self, name: str | None = None, *, widths: tuple[int, ...] = WIDTHS):
        """This page as it is now, at each of `widths`: no CSP violation, no script error,
        no sideways scrolling, axe-clean; and once per session a screenshot of each width
        under `name`. Every state a test reaches is checked (a message shown, form errors,
        the country list open), not only the first visit of a page."""
        assert not self.csp_violations(), "\n".join(self.csp_violations())
        assert not [line for line in self.console if line.startswith("page error")], self.console
        viewport = self.page.viewport_size
        # The width the page is at first: resizing can close what the test opened.
        for width in sorted(widths, key=lambda width: width != viewport["width"]):
            if width != self.page.viewport_size["width"]:
                self.page.set_viewport_size({"width": width, "height": viewport["height"]})
            self.no_sideways_scroll()
            self.axe()
            if name is not None and (name, width) not in self.screenshots_taken:
                self.screenshots_taken.add((name, width))
                self.page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        if self.page.viewport_size != viewport:
            self.page.set_viewport_size(viewport)

    def no_sideways_scroll(self):
        """Nothing sticks out to the right: a phone-sized screen would scroll sideways."""
        scroll_width, inner_width, widest = self.page.evaluate(
            """() => {
                const inner = window.innerWidth;
                const sticking = [...document.querySelectorAll("body *")]
                    .filter(el => el.getBoundingClientRect().right > inner + 0.5)
                    .map(el => el.outerHTML.slice(0, 120));
                return [document.documentElement.scrollWidth, inner, sticking.slice(-3)];
            }"""
        )
        assert scroll_width <= inner_width, (
            f"{self.page.url} scrolls sideways at {inner_width} px ({scroll_width} px wide):\n"
            + "\n".join(widest)
        )

    def axe(self):
        if not self.javascript:
            return  # axe is a script; the same pages are checked with JavaScript on
        result = self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']}).then(r => r.violations)",
            AXE_TAGS,
        )
        assert not result, f"axe on {self.page.url}:\n{format_violations(result)}"


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"  at {json.dumps(node['target'])}: {node['html'][:160]}")
            lines.extend("    " + line for line in node["failureSummary"].splitlines())
    return "\n".join(lines)


@pytest.fixture
def open_browser(browser, live_server, axe_path, _screenshots_taken):
    """Fresh browsers (contexts): `open_browser()`, `open_browser(javascript=False, width=375)`."""
    opened = []

    def open_(
        *, javascript: bool = True, width: int = DESKTOP["width"], locale: str = "en-GB"
    ) -> Browser:
        # The locale is also the browser's Accept-Language, which picks the pages' language.
        context = browser.new_context(
            viewport={**DESKTOP, "width": width}, java_script_enabled=javascript, locale=locale
        )
        context.set_default_timeout(5_000)
        # axe-core goes into every page the way Playwright adds init scripts, through the
        # DevTools protocol, which the page's CSP does not govern: no bypass_csp needed
        # (it would also hide the violations that these tests look for).
        context.add_init_script(path=axe_path)
        person = Browser(context, live_server.url, _screenshots_taken, javascript=javascript)
        opened.append(person)
        return person

    yield open_
    for person in opened:
        # A violation on a page that no test step checked still fails the test.
        violations = person.csp_violations()
        person.context.close()
        assert not violations, "\n".join(violations)


@pytest.fixture
def person(open_browser) -> Browser:
    return open_browser()


@pytest.fixture
def sms_inbox(outbox_dirs):
    """The phone: the text messages that the filebased SMS backend wrote, oldest first."""

    class Phone:
        def messages(self) -> list[str]:
            folder = outbox_dirs["sms"]
            if not folder.is_dir():
                return []
            files = sorted(folder.iterdir(), key=lambda file: file.stat().st_mtime_ns)
            return [file.read_text() for file in files]

        def last_code(self) -> str:
            messages = self.messages()
            assert messages, "no text message arrived"
            return re.search(r"code is (\d{6})\.", messages[-1]).group(1)

    return Phone()


@pytest.fixture
def email_inbox(outbox_dirs):
    """The mailbox: the emails that the filebased email backend wrote, oldest first."""

    class Mailbox:
        def messages(self) -> list[email.message.EmailMessage]:
            folder = outbox_dirs["email"]
            if not folder.is_dir():
                return []
            found = []
            for file in sorted(folder.iterdir(), key=lambda file: file.stat().st_mtime_ns):
                # One file per connection; messages in it are separated by a line of dashes.
                for raw in re.split(rb"\n-{79}\n", file.read_bytes()):
                    if raw.strip():
                        found.append(email.message_from_bytes(raw, policy=email.policy.default))
            return found

        def last_to(self, address: str) -> email.message.EmailMessage:
            mine = [message for message in self.messages() if address in message["To"]]
            assert mine, f"no email to {address}"
            return mine[-1]

    return Mailbox()
