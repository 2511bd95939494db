from functools import wraps

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.signin import Method, signin_complete, signin_pending
from core.errors import ApplicationError
from core.http import client_ip, client_of, redirect_to_next
from mfa.authenticator import (
    authenticator_code_malformed,
    authenticator_device,
    authenticator_set_up,
    authenticator_verify,
)
from mfa.codes import (
    CodeError,
    code_delivery_failure,
    code_send,
    code_verify,
    seconds_until_resend,
)
from mfa.forms import AuthenticatorCodeForm, CodeForm, PhoneForm
from mfa.models import SmsDevice
from mfa.services import phone_code_request, phone_confirm
from mfa.stages import sms_step_start
from mfa.trust import remembered_browser_grant
from organizations.members import admins_to_ask

SIGN_IN_AGAIN = "Your sign-in timed out. Enter your email and password again."


def pending_signin_required(view):
    """For the steps after the password: `view` gets the member and their pending sign-in.

    Without one (never started, timed out, or ended meanwhile by a reset) the person is
    sent to sign in again, and told why.
    """

    @login_not_required
    @wraps(view)
    def step(request, *args, **kwargs):
        state = signin_pending(request)
        if state is None:
            messages.info(request, SIGN_IN_AGAIN)
            return redirect("accounts:signin")
        user, pending = state
        return view(request, user, pending, *args, **kwargs)

    return step


def _sms_device(user) -> SmsDevice | None:
    """The device that SMS codes for a sign-in go to; None until a number was asked for."""
    return SmsDevice.objects.reachable().select_related("user").filter(user=user).first()


def _signed_in(request, user, pending, device, *, method: Method, remember: bool):
    """The second factor passed with `device`: signed in, and on to where they were going."""
    signin_complete(request, user, method=method)
    django_otp.login(request, device)
    response = redirect_to_next(pending.next_url)
    if remember:
        remembered_browser_grant(user=user, request=request, response=response)
    return response


def _sign_in_number(device):
    # A number waiting in a phone change (personal settings) is not for signing in.
    return device.number if device.confirmed else device.pending_number


@pending_signin_required
def enroll(request, user, pending):
    if SmsDevice.objects.on_file().filter(user=user).exists():
        return redirect("mfa:verify")
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone_code_request(
                user=user,
                number=form.cleaned_data["phone"],
                attempt=pending.attempt,
                ip=client_ip(request),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect("mfa:verify")
    return render(request, "mfa/enroll.html", {"form": form})


@pending_signin_required
def verify(request, user, pending):
    device = _sms_device(user)
    if device is None:
        return redirect("mfa:enroll")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = code_verify(
                device=device,
                attempt=pending.attempt,
                code=form.cleaned_data["code"],
                **client_of(request),
            )
            device = phone_confirm(device=device, **client_of(request))
        except CodeError as error:
            form.add_error("code", error.message)
        else:
            return _signed_in(
                request, user, pending, device,
                method=Method.SMS, remember=form.cleaned_data["remember"],
            )
    return render(
        request,
        "mfa/verify.html",
        {
            "form": form,
            "number_hint": str(_sign_in_number(device))[-2:],
            "enrolling": not device.confirmed,
            # The way back to the app step, for a member who chose a text message after all.
            "has_authenticator": device.confirmed and authenticator_set_up(user),
            "resend_in": seconds_until_resend(device),
            "undelivered": code_delivery_failure(device),
            # "Can't use this phone?": whom to ask, shown only once the password was accepted.
            "admins": admins_to_ask(user),
        },
    )


@require_POST
@pending_signin_required
def resend(request, user, pending):
    device = _sms_device(user)
    if device is None:
        return redirect("mfa:enroll")
    try:
        code_send(
            device=device,
            attempt=pending.attempt,
            to=_sign_in_number(device),
            ip=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "A new code is on its way.")
    return redirect("mfa:verify")


@pending_signin_required
def authenticator(request, user, pending):
    device = authenticator_device(user)
    if device is None:
        return redirect("mfa:verify")
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                device = authenticator_verify(
                    device=device, code=form.cleaned_data["code"], **client_of(request)
                )
            except CodeError as error:
                form.add_error("code", error.message)
            else:
                return _signed_in(
                    request, user, pending, device,
                    method=Method.TOTP, remember=form.cleaned_data["remember"],
                )
        elif form.code_malformed:
            authenticator_code_malformed(device=device, **client_of(request))
    return render(request, "mfa/authenticator.html", {"form": form})


@require_POST
@pending_signin_required
def authenticator_sms(request, user, pending):
    """The app step's "Send a code by text message instead": on to the SMS step."""
    return sms_step_start(request, user, pending=pending)
