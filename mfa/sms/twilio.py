"""Sends through Twilio's Messages API with the official client (twilio-python).

A send has one deadline, SMS_SEND_DEADLINE seconds, for all of it: the client's own
timeout (TWILIO_TIMEOUT_SECONDS) bounds each connect and each read, so a Twilio that
trickles its answer a byte at a time would otherwise hold the worker for as long as it
likes. The request runs in a thread of its own that the send waits for until the deadline;
past it the person is told to try again. The request's timeout is cut to what is left of
the deadline, so a Twilio that stops answering ends the thread at the deadline too; one
that trickles its answer leaves the thread to finish, holding nothing of the request's but
its own connection, until the answer ends or pauses for that long.
"""

import threading
import time

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
    # SMS Pumping Protection blocked the message (and the prefix, for a while).
    30450: Failure.PUMPING,
    30453: Failure.PUMPING,
}


class DeadlinePassed(Exception):
    """Twilio did not answer the whole request within SMS_SEND_DEADLINE."""


def status_callback_url() -> str:
    """Where Twilio reports how each message fared: our webhook, unless configured otherwise.

    TWILIO_STATUS_CALLBACK unset (None) means SITE_URL plus the webhook's path; "" means
    no reports (for a laptop that Twilio cannot reach).
    """
    if settings.TWILIO_STATUS_CALLBACK is not None:
        return settings.TWILIO_STATUS_CALLBACK
    return settings.SITE_URL + reverse("mfa:sms-status")


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, http_client=None):
        # max_retries=0: one attempt per send. A slow or failing Twilio must not be
        # hit again by us while the person is already waiting (no retry storm). Another
        # client (twilio.http.HttpClient) only for tests.
        self.http_client = http_client or TwilioHttpClient(
            timeout=settings.TWILIO_TIMEOUT_SECONDS, max_retries=0
        )
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
        fields = {
            "to": message.to,
            "from_": settings.TWILIO_FROM_NUMBER,
            "body": message.body,
            "status_callback": status_callback_url() or values.unset,
        }
        try:
            sent = self._create_by_deadline(fields, deadline=settings.SMS_SEND_DEADLINE)
        except DeadlinePassed as exc:
            raise SmsDeliveryError(Failure.TRY_AGAIN, code="deadline") from exc
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
        return sent.sid or ""

    def _create_by_deadline(self, fields: dict, *, deadline: float):
        """messages.create(**fields) in a thread of its own, waited for `deadline` seconds;
        its outcome (the message, or what it raised), else DeadlinePassed."""
        outcome = {}
        started = time.monotonic()
        ends = started + deadline

        def create():
            try:
                left = ends - time.monotonic()
                if left <= 0:
                    raise DeadlinePassed("the deadline passed before the request")
                # The request's own timeout (its connect, and each read) is at most what is
                # left: a Twilio that stops answering ends this thread and its connection
                # at the deadline, not TWILIO_TIMEOUT_SECONDS later. twilio-python passes no
                # timeout of its own, so the client's is the one used.
                self.http_client.timeout = min(settings.TWILIO_TIMEOUT_SECONDS, left)
                outcome["sent"] = self.client.messages.create(**fields)
            except BaseException as exc:  # handed over to the waiting send, as it is
                outcome["error"] = exc
            finally:
                # twilio-python's client has a session (None when not pooling); a test's
                # client may have none at all.
                if getattr(self.http_client, "session", None) is not None:
                    self.http_client.session.close()

        thread = threading.Thread(target=create, name="twilio-send", daemon=True)
        thread.start()
        thread.join(deadline)
        # A timeout cut to the deadline may end the thread just as the wait ends: the
        # deadline's, whichever came first.
        timed_out = isinstance(outcome.get("error"), requests.Timeout)
        if thread.is_alive() or (timed_out and time.monotonic() >= ends):
            raise DeadlinePassed(f"no answer from Twilio in {time.monotonic() - started:.1f} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["sent"]

    @classmethod
    def _delivery_error(cls, status, code) -> SmsDeliveryError:
        if status and int(status) >= 500:
            # Twilio's own trouble; whatever code comes with it, the answer is "later".
            return SmsDeliveryError(Failure.TRY_AGAIN, code=f"http-{status}")
        if not code:
            return SmsDeliveryError(Failure.TRY_AGAIN, code=f"http-{status}")
        return SmsDeliveryError(cls.failure_kind(code), code=str(code))
