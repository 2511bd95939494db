import pytest
from django.conf import settings
from django.utils import translation

from mfa import sms

PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config, items):
    """Races need PostgreSQL's row locks: those tests run in CI's PostgreSQL pass only."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    kept = [item for item in items if "postgres" not in item.keywords]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()


@pytest.fixture
def make_user(db, django_user_model):
    def make(email="ada@example.com", password=PASSWORD, **fields):
        fields.setdefault("full_name", "Ada Lovelace")
        return django_user_model.objects.create_user(email=email, password=password, **fields)

    return make


@pytest.fixture
def make_organization(db):
    from organizations.models import Organization

    def make(name="Acme Events", slug=None, **fields):
        return Organization.objects.create(
            name=name, slug=slug or name.lower().replace(" ", "-"), **fields
        )

    return make


@pytest.fixture
def make_member(make_user, make_organization):
    """A user who belongs to an organization (Acme Events when not given) with a role."""
    from organizations.models import Membership, Organization

    def make(email="ada@example.com", organization=None, role=Membership.Role.MEMBER, **fields):
        user = make_user(email=email, **fields)
        organization = (
            organization
            or Organization.objects.get_or_create(
                slug="acme-events", defaults={"name": "Acme Events"}
            )[0]
        )
        Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make


class Clock:
    """Moves django.utils.timezone.now, which the code reads for "now" everywhere, and the
    clock of django-otp's TOTPDevice, which reads time.time() instead."""

    def __init__(self, monkeypatch):
        from types import SimpleNamespace

        from django.utils import timezone
        from django_otp.plugins.otp_totp import models as totp_models

        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)
        # Only that module's name `time`, not the time module itself, which the test runner,
        # the live server and Playwright go on reading.
        monkeypatch.setattr(
            totp_models, "time", SimpleNamespace(time=lambda: self.now.timestamp())
        )

    def advance(self, **delta):
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def last_code():
    """The code of the newest text message in the SMS outbox."""

    def read():
        import re

        assert sms.outbox, "no SMS was sent"
        return re.search(r"code is (\d{6})\.", sms.outbox[-1].body).group(1)

    return read


@pytest.fixture
def enrolled_member(make_member):
    """A member with a verified phone, +41 79 123 45 67."""
    from mfa.models import SmsDevice

    def make(email="ada@example.com", number="+41791234567", **fields):
        user = make_member(email=email, **fields)
        SmsDevice.objects.create(user=user, name="Mobile phone", number=number, confirmed=True)
        return user

    return make


@pytest.fixture
def add_authenticator(db):
    """A confirmed authenticator app for `user`, as personal settings leave it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def add(user):
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)

    return add


@pytest.fixture
def app_code(clock):
    """The code that an authenticator app shows at the test clock's time (or `steps` of 30
    seconds later), for a device or for a key as the set-up page shows it."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    def code(device=None, *, key: str = "", steps: int = 0) -> str:
        secret = device.bin_key if device is not None else b32decode(key.replace(" ", ""))
        totp = TOTP(secret, step=30, digits=6)
        totp.time = clock.now.timestamp() + 30 * steps
        return f"{totp.token():06d}"

    return code


@pytest.fixture
def wrong_app_code(app_code):
    """A 6-digit code that the app shows at no time step near the test clock's."""

    def code(device=None, *, key: str = "") -> str:
        near = {app_code(device, key=key, steps=steps) for steps in range(-2, 3)}
        return next(code for code in ("000000", "111111", "222222") if code not in near)

    return code


@pytest.fixture
def sign_in(client):
    """POST email and password to the sign-in page, as a person would."""

    def post(email="ada@example.com", password=PASSWORD, client=client, **extra):
        return client.post("/signin/", {"email": email, "password": password, **extra})

    return post


@pytest.fixture(autouse=True)
def english_by_default():
    """Each test starts in English. Django's LocaleMiddleware leaves the language of a
    request active in the thread that served it, and the test client's thread is the
    test's own: a French request would otherwise make the next test's emails French."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
