"""The Twilio stand-in, for tests that send real HTTP to "Twilio"."""

import pytest

from tests.mfa.twilio_standin import TwilioStandin

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"


@pytest.fixture
def twilio(settings):
    """The stand-in, with the twilio backend configured to talk to it."""
    with TwilioStandin() as standin:
        settings.SMS_BACKEND = "mfa.sms.twilio.SmsBackend"
        settings.TWILIO_API_BASE_URL = standin.base_url
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = FROM_NUMBER
        settings.TWILIO_TIMEOUT_SECONDS = 0.5
        yield standin
