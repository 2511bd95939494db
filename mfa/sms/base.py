from mfa.delivery import Failure
from mfa.sms import SmsMessage


class BaseSmsBackend:
    """Base class for SMS backends, like django.core.mail.backends.base.BaseEmailBackend.

    Subclasses implement `send`: deliver one message and return the provider's id for
    it ("" when there is none), or raise mfa.sms.SmsDeliveryError with the kind of
    failure; `failure_kind` maps the provider's error codes onto the kinds, whose words
    are the product's (mfa.delivery). Backends do not retry: a person waiting on the
    sign-in page can simply ask again, and a retry loop against a failing provider only
    multiplies the bill.
    """

    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError("subclasses of BaseSmsBackend must override send()")

    @classmethod
    def failure_kind(cls, code: str) -> str:
        """What one of this backend's error codes means for the person (mfa.delivery.Failure).

        A backend that knows its provider's codes says more; any other failure is one the
        person can only try again after.
        """
        return Failure.TRY_AGAIN
