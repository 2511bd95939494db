"""What follows a correct password: no second factor, a remembered browser, the member's
passkey, their authenticator app, or the SMS step."""

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.signin import Method, PendingSignin, signin_complete, signin_pending_start
from core.errors import ApplicationError
from core.http import client_ip
from mfa.codes import code_send
from mfa.models import PasskeyDevice, SmsDevice
from mfa.policy import mfa_required
from mfa.trust import remembered_browser_use


def second_factor_start(request: HttpRequest, user, *, next_url: str) -> HttpResponseRedirect:
    if not mfa_required(user):
        signin_complete(request, user, method=Method.PASSWORD)
        return redirect(next_url or resolve_url("home"))
    if remembered_browser_use(user=user, request=request):
        signin_complete(request, user, method=Method.REMEMBERED)
        return redirect(next_url or resolve_url("home"))
    pending = signin_pending_start(request, user, next_url=next_url)
    # The strongest factor first: a passkey (which phishing can't take), then the app's code;
    # a text message only if they choose it.
    has_passkey, has_authenticator = factors_set_up(user)
    if has_passkey:
        return redirect("mfa:passkey")
    if has_authenticator:
        return redirect("mfa:authenticator")
    return sms_step_start(request, user, pending=pending)


def factors_set_up(user) -> tuple[bool, bool]:
    """Whether the member has a passkey, and a confirmed authenticator app: one query, as
    mfa.passkeys.passkey_set_up and mfa.authenticator.authenticator_set_up would each ask."""
    return (
        User.objects.filter(pk=user.pk)
        .values_list(
            Exists(PasskeyDevice.objects.filter(user=OuterRef("pk"))),
            Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .get()
    )


def sms_step_start(request: HttpRequest, user, *, pending: PendingSignin) -> HttpResponseRedirect:
    """Send a code for `pending` to the phone on file and go to the SMS step (or to the
    phone step, for a member without a phone)."""
    device = SmsDevice.objects.on_file().select_related("user").filter(user=user).first()
    if device is None:
        return redirect("mfa:enroll")
    try:
        code_send(
            device=device, attempt=pending.attempt, to=device.number, ip=client_ip(request)
        )
    except ApplicationError as error:
        # Also during the cooldown: the code sent moments ago was for an earlier sign-in
        # and won't work here, so say when a new one can be asked for.
        messages.error(request, error.message)
    return redirect("mfa:verify")
