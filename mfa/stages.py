"""What follows a correct password: no second factor, a remembered browser, the member's
passkey, their authenticator app, or the SMS step."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect

from accounts.signin import Method, PendingSignin, signin_complete, signin_pending_start
from core.errors import ApplicationError
from core.http import client_ip, redirect_to_next
from core.queries import first_or_none
from mfa.codes import code_deliver, code_prepare
from mfa.factors import SMS_FALLBACK_OFF, signin_alternatives, signin_phone, sms_signin_allowed
from mfa.models import SmsDevice
from mfa.policy import mfa_required
from mfa.trust import remembered_browser_presented, remembered_browser_use


def second_factor_start(request: HttpRequest, user, *, next_url: str) -> HttpResponseRedirect:
    if not mfa_required(user):
        signin_complete(request, user, method=Method.PASSWORD)
        return redirect_to_next(next_url)
    if remembered_browser_presented(request):
        # The browser is marked used in the transaction of the sign-in it vouches for.
        with transaction.atomic():
            if remembered_browser_use(user=user, request=request):
                signin_complete(request, user, method=Method.REMEMBERED)
                return redirect_to_next(next_url)
    pending = signin_pending_start(request, user, next_url=next_url)
    phone, alternatives = signin_phone(user)
    # The strongest factor first: a passkey (which phishing can't take), then the app's code;
    # a text message only if they choose it.
    if alternatives.strong_step:
        return redirect(alternatives.strong_step)
    return _sms_step(request, user, pending=pending, phone=phone)


def sms_refused_redirect(request: HttpRequest, user) -> HttpResponseRedirect:
    """For a member who turned the text-message fallback off: on to the step of their strong
    factor (the passkey's, else the app's), told why.

    A fallback that is off always has a strong factor behind it (mfa.factors.
    sms_signin_allowed), so this never leads back to the SMS step.
    """
    messages.error(request, SMS_FALLBACK_OFF)
    return redirect(signin_alternatives(user).strong_step or "mfa:authenticator")


def sms_step_start(request: HttpRequest, user, *, pending: PendingSignin) -> HttpResponseRedirect:
    """Send a code for `pending` to the phone on file and go to the SMS step (or to the
    phone step, for a member without a phone)."""
    phone = first_or_none(SmsDevice.objects.on_file().filter(user=user))
    if phone is not None:
        phone.user = user  # no join to read them again
    return _sms_step(request, user, pending=pending, phone=phone)


def _sms_step(request, user, *, pending: PendingSignin, phone) -> HttpResponseRedirect:
    """sms_step_start's, with `user`'s phone on file read (None: they have none)."""
    if phone is None:
        return redirect("mfa:enroll")
    if not sms_signin_allowed(phone):
        return sms_refused_redirect(request, user)
    try:
        with transaction.atomic():
            code = code_prepare(
                device=phone, attempt=pending.attempt, to=phone.number, ip=client_ip(request)
            )
            # The pending sign-in's session commits with its code, rather than on its own
            # with the response (which then has nothing left to write).
            request.session.save()
        code_deliver(code)
    except ApplicationError as error:
        # Also during the cooldown: the code sent moments ago was for an earlier sign-in
        # and won't work here, so say when a new one can be asked for.
        messages.error(request, error.message)
    return redirect("mfa:verify")
