"""Twilio's delivery reports (SECURITY.md 16 and 17), recorded by a webhook; the code pages
show them (mfa.codes.code_delivery_failure) in the product's words (mfa.delivery).

Twilio accepts a message at once and learns only later whether it reached the phone
(errors 30003-30008); it then POSTs the message's status to mfa.sms.twilio's status
callback URL. The request is signed with our Auth Token instead of carrying a CSRF token,
and it has no timestamp, so whoever saw one can replay it: recording a report is
idempotent and only ever moves a message's status forward (SmsMessage.REPORTED_FROM).
"""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from mfa.models import SmsMessage
from mfa.sms.twilio import status_callback_url

logger = logging.getLogger(__name__)

# Twilio's MessageStatus -> ours. The others (queued, accepted, sending, sent, ...) say
# nothing new about a message that we record as sent once Twilio has accepted it.
REPORTED_STATUSES = {
    "delivered": SmsMessage.Status.DELIVERED,
    "undelivered": SmsMessage.Status.FAILED,
    "failed": SmsMessage.Status.FAILED,
}


def sms_status_record(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """Move the message Twilio knows as `provider_id` forward to `status`; False if unchanged.

    One conditional UPDATE: of two reports racing, neither can undo the other, and a
    replayed or late report finds the row already past it.
    """
    if not provider_id:
        return False  # "" is every message that never reached Twilio.
    max_length = SmsMessage._meta.get_field("error_code").max_length
    updated = SmsMessage.objects.filter(
        provider_id=provider_id, status__in=SmsMessage.REPORTED_FROM[status]
    ).update(status=status, error_code=error_code[:max_length])
    if updated:
        # The report also names the phone number: it stays out of the log.
        logger.info("SMS %s reported %s, error %s", provider_id, status, error_code or "none")
    return bool(updated)


@login_not_required
@csrf_exempt  # Twilio cannot send a CSRF token; its signature, checked below, replaces it.
@require_POST
def twilio_status(request):
    refusal = _refusal(request)
    if refusal:
        # Neither the form (it holds the phone number) nor the signature goes to the log.
        logger.warning("Twilio status callback refused: %s", refusal)
        return HttpResponseForbidden()
    status = REPORTED_STATUSES.get(request.POST.get("MessageStatus", ""))
    if status is not None:
        sms_status_record(
            provider_id=request.POST.get("MessageSid", ""),
            status=status,
            error_code=request.POST.get("ErrorCode", ""),
        )
    # Unknown messages too: Twilio can do nothing about them, so there is nothing to retry.
    return HttpResponse()


def _refusal(request) -> str:
    """Why this is not a report signed by Twilio with our Auth Token, or "" when it is."""
    if not settings.TWILIO_AUTH_TOKEN:
        # An empty key would make signatures anybody can compute.
        return "TWILIO_AUTH_TOKEN is not set"
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return "no signature"
    # Message status reports are forms. For any other body the validator would check the
    # URL alone (a JSON body is only checked when handed the raw text), not the content.
    if request.content_type != "application/x-www-form-urlencoded":
        return "not a form"
    # The Auth Token's signature (HMAC-SHA1), the only key we hold: a webhook signed with
    # a Twilio SharedKey instead is refused.
    if not RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
        _public_url(request), request.POST, signature
    ):
        return "wrong signature"
    return ""


def _public_url(request) -> str:
    """The URL Twilio called, which is what it signed.

    Behind a proxy the request's own scheme and host may not be the public ones
    (request.build_absolute_uri), so they come from configuration: the status callback
    given to Twilio, or SITE_URL when there is none.
    """
    public = urlsplit(status_callback_url() or settings.SITE_URL)
    return f"{public.scheme}://{public.netloc}{request.get_full_path()}"
