from mfa.sms import SmsMessage


class BaseSmsBackend:
    """Base class for SMS backends, like django.core.mail.backends.base.BaseEmailBackend.

    Subclasses implement `send`: deliver one message and return the provider's id for
    it ("" when there is none), or raise mfa.sms.SmsDeliveryError. Backends do not
    retry: a person waiting on the sign-in page can simply ask again, and a retry loop
    against a failing provider only multiplies the bill.
    """

    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError("subclasses of BaseSmsBackend must override send()")
