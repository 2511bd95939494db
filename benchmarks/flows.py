"""Complete sign-ins as a browser makes them, each GET and POST, for benchmarks/signin.py and
for the tests that pin their query counts (tests/test_signin_flows.py): one definition of
each flow, so that the counts the benchmark prints are the ones the tests hold.

A browser here is a django.test.Client with CSRF enforced: each POST sends the token of the
form that the page before it showed, and each redirect is followed by the GET a browser
makes. Every step checks its status and redirect, every flow that it ends on the home page
signed in as its member and that exactly the text messages it should send were sent.

Each member has a phone number and a client IP (REMOTE_ADDR) of their own, as people do:
the sends are limited per member, number, block of 100 numbers and client IP (LIMITS), and
with every flow from one address the IP's limit would refuse the 11th code. So no limit is
raised, and the limit checks read the few rows they read in life.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mfa import sms
from mfa.models import SmsDevice
from organizations.models import Membership, Organization

PASSWORD = "correct horse battery"  # noqa: S105
HOME = reverse("home")  # the page behind the sign-in
SIGNIN = reverse("accounts:signin")
PHONE = reverse("mfa:enroll")
CODE = reverse("mfa:verify")
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SMS_CODE = re.compile(r"code is (\d{6})\.")


class FlowError(AssertionError):
    """A step did not answer as it should (status, redirect, text messages, signed in)."""


@dataclass
class Member:
    user: User
    number: str  # their mobile phone, +41 79 ..., in a block of 100 numbers of their own
    ip: str

    @property
    def email(self) -> str:
        return self.user.email


def members_create(count: int, *, phone: bool) -> list[Member]:
    """`count` members of one organization (everybody in Backstage is one), with a confirmed
    phone or none yet, all with the same password hash (computed once)."""
    organization, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    first = User.objects.count()
    hashed = make_password(PASSWORD)
    users = User.objects.bulk_create(
        User(email=f"member{n}@bench.example", password=hashed, full_name="Bench Mark")
        for n in range(first, first + count)
    )
    Membership.objects.bulk_create(Membership(user=u, organization=organization) for u in users)
    members = [
        Member(
            user=user,
            number=f"+4179{1_000_000 + 100 * n:07d}",
            ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        )
        for n, user in enumerate(users, start=first)
    ]
    if phone:
        SmsDevice.objects.bulk_create(
            SmsDevice(user=m.user, name="Mobile phone", number=m.number, confirmed=True)
            for m in members
        )
    return members


class Browser:
    """One person's browser: its cookies, its address and the page it shows."""

    def __init__(self, member: Member, *, client: Client | None = None):
        self.client = client or Client(enforce_csrf_checks=True)
        self.client.defaults["REMOTE_ADDR"] = member.ip
        self.url = ""
        self.page = ""

    def get(self, url: str, *, expect: int | str = 200):
        response = self._check("GET", url, self.client.get(url), expect)
        self.url, self.page = url, response.content.decode()
        return response

    def post(self, url: str, data: dict, *, expect: int | str):
        """Submit the form of the page shown, which posts to `url`, with that page's token."""
        if f'action="{url}"' not in self.page and url != self.url:
            raise FlowError(f"the page {self.url} has no form that posts to {url}")
        token = CSRF_TOKEN.search(self.page)
        if not token:
            raise FlowError(f"the page {self.url} has no CSRF token")
        data = {**data, "csrfmiddlewaretoken": token.group(1)}
        return self._check("POST", url, self.client.post(url, data), expect)

    def close(self) -> None:
        """Closing the browser ends its session (SESSION_EXPIRE_AT_BROWSER_CLOSE); the
        cookies that have an expiry, the remembered browser's among them, stay."""
        self.client.cookies.pop(settings.SESSION_COOKIE_NAME, None)

    def signed_in(self, member: Member) -> None:
        response = self.get(HOME)
        if response.wsgi_request.user.pk != member.user.pk or "Welcome, Bench" not in self.page:
            raise FlowError(f"the home page is not {member.email}'s, signed in")

    @staticmethod
    def _check(method: str, url: str, response, expect: int | str):
        """`expect`: a status, or a URL for "302 to that URL"."""
        status, where = (302, expect) if isinstance(expect, str) else (expect, None)
        location = response.headers.get("Location")
        if response.status_code != status or (where is not None and location != where):
            raise FlowError(
                f"{method} {url}: {response.status_code} {location!r}, expected {expect!r}"
            )
        return response


class Texts:
    """The text messages sent from here on, which must be exactly the ones expected."""

    def __init__(self):
        self.start = len(sms.outbox)

    def code(self, member: Member) -> str:
        """The code of the one text message sent since, to the member's phone."""
        sent = sms.outbox[self.start :]
        if [message.to for message in sent] != [member.number]:
            raise FlowError(f"expected one text to {member.number}, got {[m.to for m in sent]}")
        self.start = len(sms.outbox)
        return SMS_CODE.search(sent[0].body).group(1)

    def none(self) -> None:
        if sent := sms.outbox[self.start :]:
            raise FlowError(f"expected no text message, got {[m.to for m in sent]}")


# The flows ----------------------------------------------------------------------------------
def login_view(browser: Browser, member: Member) -> None:
    """Django's own LoginView, no second factor: the floor. Its form has no action, so the
    browser posts it to the page's own address."""
    texts = Texts()
    page = f"{reverse('django-login')}?next={HOME}"  # benchmarks.urls, not the app's
    browser.get(page)
    browser.post(page, {"username": member.email, "password": PASSWORD}, expect=HOME)
    browser.signed_in(member)
    texts.none()


def password_step(browser: Browser, member: Member, *, expect: str) -> None:
    """The sign-in page as the home page sends a signed-out browser to it, then email and
    password from its form (which carries `next`)."""
    browser.get(f"{SIGNIN}?next={HOME}")
    browser.post(SIGNIN, {"email": member.email, "password": PASSWORD, "next": HOME}, expect=expect)


def code_step(browser: Browser, member: Member, texts: Texts, *, remember: bool = False) -> None:
    code = texts.code(member)
    browser.get(CODE)
    browser.post(CODE, {"code": code, **({"remember": "on"} if remember else {})}, expect=HOME)


def password_and_code(browser: Browser, member: Member, *, remember: bool = False) -> None:
    texts = Texts()
    password_step(browser, member, expect=CODE)  # sends the code
    code_step(browser, member, texts, remember=remember)
    browser.signed_in(member)
    texts.none()


def remembered_prime(browser: Browser, member: Member) -> None:
    """Not measured: an earlier sign-in that ticked "Remember me for 14 days", then the
    browser closed."""
    password_and_code(browser, member, remember=True)
    if settings.MFA_REMEMBER_COOKIE_NAME not in browser.client.cookies:
        raise FlowError("no remembered-browser cookie after ticking Remember me")
    browser.close()


def remembered(browser: Browser, member: Member) -> None:
    texts = Texts()
    password_step(browser, member, expect=HOME)  # no code step
    browser.signed_in(member)
    texts.none()


def enrollment(browser: Browser, member: Member) -> None:
    texts = Texts()
    password_step(browser, member, expect=PHONE)  # no phone yet
    browser.get(PHONE)
    browser.post(PHONE, {"country": "CH", "number": member.number}, expect=CODE)  # sends it
    code_step(browser, member, texts)
    browser.signed_in(member)
    texts.none()


@dataclass
class Flow:
    key: str  # the name of the same flow in ../shared/bench
    name: str
    steps: str
    run: Callable[[Browser, Member], None]
    phone: bool  # whether its members have a confirmed phone before it
    prime: Callable[[Browser, Member], None] | None = None  # not measured, before it


FLOOR = Flow(
    "floor", "Django's LoginView (the floor)", "GET page, POST, GET home", login_view, phone=False
)
FLOWS = [
    FLOOR,
    Flow(
        "login",
        "password + SMS code",
        "GET sign-in, POST password (sends the code), GET code form, POST code, GET home",
        password_and_code,
        phone=True,
    ),
    Flow(
        "remembered",
        "remembered browser",
        "GET sign-in, POST password (no code), GET home",
        remembered,
        phone=True,
        prime=remembered_prime,
    ),
    Flow(
        "enroll",
        "first enrollment",
        "GET sign-in, POST password, GET phone form, POST phone (sends the code), "
        "GET code form, POST code, GET home",
        enrollment,
        phone=False,
    ),
]
