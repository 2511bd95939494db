"""Sends through Twilio's Messages API with the official client (twilio-python)."""

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from mfa.sms import SmsDeliveryError, SmsMessage
from mfa.sms.base import BaseSmsBackend

TRY_AGAIN = "We couldn't send the text message right now. Try again in a minute."
NOT_MOBILE = "This number can't receive text messages (it may be a landline). Use a mobile number."

# What the person can do about each Twilio error (https://www.twilio.com/docs/api/errors).
# The 300xx codes normally arrive later, in delivery status callbacks (mfa.webhooks);
# the code pages word them with user_message_for too.
USER_MESSAGES = {
    21211: "This phone number isn't valid. Check it and try again.",
    21408: "Text messages can't be sent to this country yet. Contact your organization admin.",
    21610: (
        "This number has turned off our text messages (by replying STOP). Reply START to "
        "one of our earlier messages from that phone, then try again."
    ),
    21614: NOT_MOBILE,
    30003: (
        "Your phone couldn't be reached. Check that it is switched on and has signal, "
        "then try again."
    ),
    30004: (
        "This number is blocking our text messages. Unblock them on the phone or with "
        "the mobile carrier, then try again."
    ),
    30005: "This number is unknown or no longer in service. Check it and try again.",
    30006: NOT_MOBILE,
    30007: (
        "The mobile carrier filtered out our text message. Try again in a few minutes; "
        "if it keeps happening, contact your organization admin."
    ),
    30008: (
        "The text message couldn't be delivered. Try again in a minute; if it keeps "
        "happening, contact your organization admin."
    ),
}


def status_callback_url() -> str:
    """Where Twilio reports how each message fared: our webhook, unless configured otherwise.

    TWILIO_STATUS_CALLBACK unset (None) means SITE_URL plus the webhook's path; "" means
    no reports (for a laptop that Twilio cannot reach).
    """
    if settings.TWILIO_STATUS_CALLBACK is not None:
        return settings.TWILIO_STATUS_CALLBACK
    return settings.SITE_URL + reverse("mfa:sms-status")


def user_message_for(code) -> str:
    """The sentence for a Twilio error code; the generic "try again" for any other."""
    try:
        return USER_MESSAGES.get(int(code), TRY_AGAIN)
    except (TypeError, ValueError):
        return TRY_AGAIN


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
            raise SmsDeliveryError(TRY_AGAIN, code="twilio-client") from exc
        # ConnectTimeout is both a Timeout and a ConnectionError: "timeout" wins.
        except requests.Timeout as exc:
            raise SmsDeliveryError(TRY_AGAIN, code="timeout") from exc
        except requests.ConnectionError as exc:
            raise SmsDeliveryError(TRY_AGAIN, code="connection") from exc
        except requests.RequestException as exc:
            raise SmsDeliveryError(TRY_AGAIN, code="http-error") from exc
        finally:
            if self.http_client.session is not None:
                self.http_client.session.close()
        return sent.sid or ""

    @staticmethod
    def _delivery_error(status, code) -> SmsDeliveryError:
        if status and int(status) >= 500:
            # Twilio's own trouble; whatever code comes with it, the answer is "later".
            return SmsDeliveryError(TRY_AGAIN, code=f"http-{status}")
        if not code:
            return SmsDeliveryError(TRY_AGAIN, code=f"http-{status}")
        return SmsDeliveryError(user_message_for(code), code=str(code))
