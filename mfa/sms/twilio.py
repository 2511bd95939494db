"""Sends through Twilio's Messages API with the official client (twilio-python)."""

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from mfa.delivery import Failure
from mfa.sms import SmsDeliveryError, SmsMessage
from mfa.sms.base import BaseSmsBackend

# What each Twilio error (https://www.twilio.com/docs/api/errors) means for the person;
# the words for each kind are the product's (mfa.delivery). The 300xx codes normally
# arrive later, in delivery status callbacks (mfa.webhooks), and the code pages read them
# through failure_kind too.
FAILURE_KINDS = {
    21211: Failure.INVALID_NUMBER,
    21408: Failure.COUNTRY,
    21610: Failure.OPTED_OUT,
    21614: Failure.NOT_MOBILE,
    30003: Failure.UNREACHABLE,
    30004: Failure.BLOCKED,
    30005: Failure.UNKNOWN_NUMBER,
    30006: Failure.NOT_MOBILE,
    30007: Failure.FILTERED,
    30008: Failure.UNDELIVERABLE,
}


def status_callback_url() -> str:
    """Where Twilio reports how each message fared: our webhook, unless configured otherwise.

    TWILIO_STATUS_CALLBACK unset (None) means SITE_URL plus the webhook's path; "" means
    no reports (for a laptop that Twilio cannot reach).
    """
    if settings.TWILIO_STATUS_CALLBACK is not None:
        return settings.TWILIO_STATUS_CALLBACK
    return settings.SITE_URL + reverse("mfa:sms-status")


class SmsBackend(BaseSmsBackend):
    def __init__(self):
        # max_retries=0: one attempt per send. A slow or failing Twilio must not be
        # hit again by us while the person is already waiting (no retry storm).
        self.http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS, max_retries=0)
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=self.http_client,
        )
        # Domain.base_url is where twilio-python builds every Messages URL from; a
        # local stand-in in tests, https://api.twilio.com otherwise.
        self.client.api.base_url = settings.TWILIO_API_BASE_URL

    @classmethod
    def failure_kind(cls, code: str) -> str:
        try:
            return FAILURE_KINDS.get(int(code), Failure.TRY_AGAIN)
        except (TypeError, ValueError):
            return Failure.TRY_AGAIN

    def send(self, message: SmsMessage) -> str:
        try:
            sent = self.client.messages.create(
                to=message.to,
                from_=settings.TWILIO_FROM_NUMBER,
                body=message.body,
                status_callback=status_callback_url() or values.unset,
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._delivery_error(exc.status, exc.code) from exc
        except TwilioException as exc:  # e.g. missing credentials: ours to fix, not theirs
            raise SmsDeliveryError(Failure.TRY_AGAIN, code="twilio-client") from exc
        # ConnectTimeout is both a Timeout and a ConnectionError: "timeout" wins.
        except requests.Timeout as exc:
            raise SmsDeliveryError(Failure.TRY_AGAIN, code="timeout") from exc
        except requests.ConnectionError as exc:
            raise SmsDeliveryError(Failure.TRY_AGAIN, code="connection") from exc
        except requests.RequestException as exc:
            raise SmsDeliveryError(Failure.TRY_AGAIN, code="http-error") from exc
        finally:
            if self.http_client.session is not None:
                self.http_client.session.close()
        return sent.sid or ""

    @classmethod
    def _delivery_error(cls, status, code) -> SmsDeliveryError:
        if status and int(status) >= 500:
            # Twilio's own trouble; whatever code comes with it, the answer is "later".
            return SmsDeliveryError(Failure.TRY_AGAIN, code=f"http-{status}")
        if not code:
            return SmsDeliveryError(Failure.TRY_AGAIN, code=f"http-{status}")
        return SmsDeliveryError(cls.failure_kind(code), code=str(code))
