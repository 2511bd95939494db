import secrets
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.signin import (
    Method,
    second_factor_record,
    session_has_second_factor,
    signin_complete,
    signin_pending,
    signin_pending_user_id,
)
from core.errors import ApplicationError
from core.http import client_ip, client_of, redirect_to_next, safe_next_url
from core.queries import first_or_none
from mfa.authenticator import (
    authenticator_code_malformed,
    authenticator_device,
    authenticator_verify,
)
from mfa.codes import (
    CodeError,
    code_delivery_failure,
    code_send,
    code_verify,
    seconds_until_resend,
)
from mfa.factors import (
    SMS_FALLBACK_OFF,
    pending_phone,
    signin_alternatives,
    sms_signin_allowed,
)
from mfa.forms import (
    AuthenticatorCodeForm,
    CodeForm,
    PasskeyForm,
    PhoneForm,
    RecoveryCodeForm,
    StepUpAuthenticatorForm,
    StepUpCodeForm,
)
from mfa.models import SmsDevice
from mfa.passkeys import PasskeyError, passkey_authenticate
from mfa.recovery import (
    RECOVERY_CODES_LOW,
    recovery_code_device,
    recovery_code_verify,
    recovery_codes_left,
)
from mfa.services import first_phone_code_request, member_device, phone_confirm
from mfa.stages import sms_refused_redirect, sms_step_start
from mfa.trust import remembered_browser_grant
from organizations.members import admins_to_ask

SIGN_IN_AGAIN = _("Your sign-in timed out. Enter your email and password again.")


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
            return _sign_in_again(request)
        user, pending = state
        return view(request, user, pending, *args, **kwargs)

    return step


def _sign_in_again(request):
    messages.info(request, SIGN_IN_AGAIN)
    return redirect("accounts:signin")


def _sms_device(user) -> SmsDevice | None:
    """The device that SMS codes for a sign-in go to; None until a number was asked for."""
    device = first_or_none(SmsDevice.objects.reachable().filter(user=user))
    if device is not None:
        device.user = user  # no join to read them again
    return device


def _signed_in(request, user, pending, device, *, method: Method, remember: bool):
    """The second factor passed with `device`: signed in, and on to where they were going.
    The browser remembered and the sign-in in one transaction, or in the caller's that
    checked the code."""
    response = redirect_to_next(pending.next_url)
    with transaction.atomic(savepoint=False):
        if remember:
            remembered_browser_grant(user=user, request=request, response=response)
        signin_complete(request, user, method=method, device=device)
    return response


def _sign_in_number(device):
    # A number waiting in a phone change (personal settings) is not for signing in.
    return device.number if device.confirmed else device.pending_number


@pending_signin_required
def enroll(request, user, pending):
    # One read for both: "a phone on file?" (then this page is not for them: a new number is
    # a phone change, made in personal settings), and the device the code goes to.
    device = member_device(user)
    if device is not None and device.confirmed:
        return redirect("mfa:verify")
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # False (a phone confirmed meanwhile): nothing sent, on to the code step too.
            first_phone_code_request(
                user=user,
                device=device,
                number=form.cleaned_data["phone"],
                attempt=pending.attempt,
                ip=client_ip(request),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            return redirect("mfa:verify")
    return render(request, "mfa/enroll.html", {"form": form})


def _sms_refused(request, user, device):
    """For a sign-in that may not use a text message (the member turned the fallback off),
    the way on to their passkey or app step, told why; else None."""
    if device.confirmed and not sms_signin_allowed(device):
        return sms_refused_redirect(request, user)
    return None


def _code_step(request, user_id: int | None, **read):
    """The code step's member, pending sign-in and phone (mfa.factors.pending_phone with
    `read`), or the answer that ends the step here: sign in again, the phone step, or the
    strong factor's step for a member who turned text messages off."""
    device = pending_phone(user_id, **read) if user_id is not None else None
    state = signin_pending(request, user=device.user if device is not None else None)
    if state is None:
        return _sign_in_again(request)
    user, pending = state
    if device is None:
        return redirect("mfa:enroll")
    if refused := _sms_refused(request, user, device):
        return refused
    return user, pending, device


@login_not_required
def verify(request):
    # pending_signin_required's check, with the member read together with their phone: for
    # the page, with their other factors and how the text went too; for a posted code,
    # under the phone's row lock, in the transaction that checks the code.
    user_id = signin_pending_user_id(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and user_id is not None and form.is_valid():
        # One transaction from the code to the session: the code is used up, the phone
        # confirmed and the member signed in together, all on the one read of the phone
        # under its lock. A wrong code is caught inside it, so that its count commits.
        with transaction.atomic():
            step = _code_step(request, user_id, page=False, lock=True)
            if isinstance(step, HttpResponse):
                return step
            user, pending, device = step
            try:
                device = code_verify(
                    device=device,
                    attempt=pending.attempt,
                    code=form.cleaned_data["code"],
                    locked=True,
                    **client_of(request),
                )
                device = phone_confirm(device=device, locked=True, **client_of(request))
            except CodeError as error:
                form.add_error("code", error.message)
            else:
                return _signed_in(
                    request, user, pending, device,
                    method=Method.SMS, remember=form.cleaned_data["remember"],
                )
        # The page again, with the error: the member's other factors are read for it below.
        alternatives = None
    else:
        step = _code_step(request, user_id, page=True)
        if isinstance(step, HttpResponse):
            return step
        user, pending, device = step
        alternatives = device.alternatives
    if not device.confirmed:
        alternatives = None  # enrolling: no other way yet
    elif alternatives is None:
        alternatives = signin_alternatives(user)
    return render(
        request,
        "mfa/verify.html",
        {
            "form": form,
            "number_hint": str(_sign_in_number(device))[-2:],
            "enrolling": not device.confirmed,
            # The ways back to the passkey or app step, for a member who chose a text message
            # after all, and "Use a recovery code".
            "has_passkey": alternatives is not None and alternatives.passkey,
            "has_authenticator": alternatives is not None and alternatives.authenticator,
            "resend_in": seconds_until_resend(device),
            "undelivered": code_delivery_failure(device),
            "has_recovery_codes": alternatives is not None and alternatives.recovery_codes,
            # "Can't use this phone?": whom to ask, shown only once the password was accepted,
            # and not while enrolling (no phone to remove yet).
            "admins": admins_to_ask(user) if device.confirmed else (),
        },
    )


@require_POST
@pending_signin_required
def resend(request, user, pending):
    device = _sms_device(user)
    if device is None:
        return redirect("mfa:enroll")
    if refused := _sms_refused(request, user, device):
        return refused
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
        messages.success(request, _("A new code is on its way."))
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
    phone = SmsDevice.objects.on_file().select_related("user").filter(user=user).first()
    alternatives = signin_alternatives(user)
    return render(
        request,
        "mfa/authenticator.html",
        {
            "form": form,
            # "Send a code by text message instead", unless the member turned it off.
            "sms_allowed": phone is not None and sms_signin_allowed(phone),
            "has_passkey": alternatives.passkey,
            "has_recovery_codes": alternatives.recovery_codes,
        },
    )


@require_POST
@pending_signin_required
def authenticator_sms(request, user, pending):
    """"Send a code by text message instead", from the app or the passkey step: on to the
    SMS step."""
    return sms_step_start(request, user, pending=pending)


# Step-up: a second factor in a session already signed in -----------------------------------
# Django admin wants a second factor given in this session (backstage.admin); a remembered
# browser signed in without one, so it is asked for here, by the sign-in's own checks. The
# state names the way it is given ("passkey", "totp", "recovery" or "sms") and, for SMS,
# the attempt that binds the code to this session, as a sign-in attempt does.
STEP_UP_KEY = "step_up"
# The ways asked for first, strongest first; a recovery code only when the member chooses it
# (each one is used up, and they are kept for a lost phone), as at sign-in.
STEP_UP_STRONG = ("passkey", "totp")


def _step_up_url(next_url: str, *, via: str = "") -> str:
    query = {"next": next_url, **({"via": via} if via else {})}
    return reverse("mfa:step-up") + "?" + urlencode(query)


@dataclass(frozen=True)
class _StepUpWays:
    """What the signed-in member can step up with."""

    passkey: bool
    app: TOTPDevice | None
    phone: SmsDevice | None
    recovery_codes: bool

    def offers(self, via: str | None) -> bool:
        """Whether a link may choose `via`; a text message only from the button that sends
        it (a POST)."""
        return (
            (via == "passkey" and self.passkey)
            or (via == "totp" and self.app is not None)
            or (via == "recovery" and self.recovery_codes)
        )

    @property
    def strongest(self) -> str | None:
        # As at sign-in: a passkey first (phishing can't take it), then the app's code.
        return next((via for via in STEP_UP_STRONG if self.offers(via)), None)

    @property
    def sms_allowed(self) -> bool:
        return self.phone is not None and sms_signin_allowed(self.phone)


def _step_up_ways(user) -> _StepUpWays:
    # The sign-in's one query for "a passkey?" and "unused recovery codes?" (the app's
    # device itself is read, for its code to be checked).
    alternatives = signin_alternatives(user)
    return _StepUpWays(
        passkey=alternatives.passkey,
        app=authenticator_device(user),
        phone=SmsDevice.objects.on_file().select_related("user").filter(user=user).first(),
        recovery_codes=alternatives.recovery_codes,
    )


def _step_up_state(request, ways: _StepUpWays) -> dict | None:
    """The way this step-up asks for: the one the member chose (a link's ?via=, or the
    button that sent a text message), else their strongest; None for a member with neither
    passkey nor app who has not asked for a text message (or a recovery code) yet."""
    state = request.session.get(STEP_UP_KEY) or {}
    via = state.get("via")
    if ways.offers(chosen := request.GET.get("via")):
        via = chosen
    elif via != "sms" and not ways.offers(via):
        # Never chosen, or the passkey, app or last recovery code gone since.
        via = ways.strongest
    if via is None:
        return None
    if via != state.get("via"):
        # The attempt stays: back on the text message, the code sent for it still works.
        state = request.session[STEP_UP_KEY] = {"via": via, "attempt": state.get("attempt", "")}
    return state


def step_up(request):
    next_url = safe_next_url(request) or reverse("admin:index")
    if session_has_second_factor(request):
        return redirect(next_url)
    ways = _step_up_ways(request.user)
    state = _step_up_state(request, ways)
    if state is None:
        # The text goes out from a button (a POST), never from merely opening the page.
        return render(request, "mfa/step_up.html", {
            "via": "", "next": next_url, "recovery_url": _step_up_recovery_url(ways, next_url),
        })
    via = state["via"]
    if via == "sms" and ways.phone is None:
        # A phone reset ends the member's sessions, so a signed-in member has one.
        raise PermissionDenied
    form = {
        "passkey": PasskeyForm, "totp": StepUpAuthenticatorForm, "sms": StepUpCodeForm,
        "recovery": RecoveryCodeForm,
    }[via](request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = _step_up_check(request, state, ways, form.cleaned_data)
        except (CodeError, PasskeyError) as error:
            form.add_error(None if via == "passkey" else "code", error.message)
        else:
            del request.session[STEP_UP_KEY]
            second_factor_record(request)
            django_otp.login(request, device)
            if via == "recovery":
                # As at sign-in: how many are left, and to make new ones when few are.
                messages.warning(request, _codes_left_message(recovery_codes_left(request.user)))
            return redirect(next_url)
    return render(request, "mfa/step_up.html", {
        "form": form,
        "via": via,
        "action": _step_up_url(next_url),
        "next": next_url,
        "number_hint": str(ways.phone.number)[-2:] if via == "sms" else "",
        "resend_in": seconds_until_resend(ways.phone) if via == "sms" else 0,
        # The other ways, as links or, for a text message, its button.
        "passkey_url": _step_up_url(next_url, via="passkey") if ways.passkey else "",
        "app_url": _step_up_url(next_url, via="totp") if ways.app else "",
        "recovery_url": _step_up_recovery_url(ways, next_url),
        "sms_allowed": ways.sms_allowed,
    })


def _step_up_recovery_url(ways: _StepUpWays, next_url: str) -> str:
    # "Use a recovery code" only while the member has one left, as on the sign-in's pages.
    return _step_up_url(next_url, via="recovery") if ways.recovery_codes else ""


def _step_up_check(request, state: dict, ways: _StepUpWays, data: dict):
    """The device that gave the second factor `state` asks for; CodeError or PasskeyError
    when it was not given. The same checks, limits and events as at sign-in."""
    if state["via"] == "passkey":
        return passkey_authenticate(
            session=request.session, credential=data["credential"], user=request.user,
            step_up=True, **client_of(request),
        )
    if state["via"] == "totp":
        return authenticator_verify(device=ways.app, code=data["code"], **client_of(request))
    if state["via"] == "recovery":
        # The sign-in's rule: used once, wrong ones counted against the member's cap on
        # wrong codes, the use recorded and emailed.
        return recovery_code_verify(
            user=request.user, code=data["code"], for_admin=True, **client_of(request)
        )
    return code_verify(
        device=ways.phone, attempt=state["attempt"], code=data["code"], **client_of(request)
    )


def _step_up_phone(user) -> SmsDevice:
    device = SmsDevice.objects.on_file().select_related("user").filter(user=user).first()
    if device is None:
        # A phone reset ends the member's sessions, so a signed-in member has one.
        raise PermissionDenied
    return device


def _step_up_sms_send(request, next_url: str):
    state = request.session.get(STEP_UP_KEY) or {}
    attempt = state.get("attempt") or secrets.token_urlsafe(32)
    device = _step_up_phone(request.user)
    if not sms_signin_allowed(device):
        # The member turned text messages off: someone with their password and browser
        # must not get one here either.
        messages.error(request, SMS_FALLBACK_OFF)
        return redirect(_step_up_url(next_url))
    try:
        code_send(device=device, attempt=attempt, to=device.number, ip=client_ip(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    request.session[STEP_UP_KEY] = {"via": "sms", "attempt": attempt}
    return redirect(_step_up_url(next_url))


@require_POST
def step_up_sms(request):
    """The step-up page's "Send again" and "Send a code by text message instead"."""
    return _step_up_sms_send(request, safe_next_url(request) or reverse("admin:index"))


def _codes_left_message(left: int) -> str:
    if left == 0:
        return _(
            "You used your last recovery code. Create new recovery codes in your personal "
            "settings."
        )
    if left < RECOVERY_CODES_LOW:
        return ngettext(
            "You used a recovery code: %(left)d is left. Create new recovery codes in your "
            "personal settings.",
            "You used a recovery code: %(left)d are left. Create new recovery codes in your "
            "personal settings.", left,
        ) % {"left": left}
    return ngettext(
        "You used a recovery code: %(left)d is left.",
        "You used a recovery code: %(left)d are left.", left,
    ) % {"left": left}


@pending_signin_required
def recovery(request, user, pending):
    """"Use a recovery code": one of the member's codes instead of the text message, the app
    or the passkey."""
    if recovery_code_device(user) is None:
        return redirect("mfa:verify")
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = recovery_code_verify(
                user=user, code=form.cleaned_data["code"], **client_of(request)
            )
        except CodeError as error:
            form.add_error("code", error.message)
        else:
            # No "Remember me": a code meant for a lost phone should not vouch for a browser.
            response = _signed_in(
                request, user, pending, device, method=Method.RECOVERY, remember=False
            )
            messages.warning(request, _codes_left_message(recovery_codes_left(user)))
            return response
    alternatives = signin_alternatives(user)
    return render(
        request,
        "mfa/recovery.html",
        {
            "form": form,
            "has_passkey": alternatives.passkey,
            "has_authenticator": alternatives.authenticator,
        },
    )
