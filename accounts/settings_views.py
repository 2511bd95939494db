"""Personal settings (SPEC journey 7): name, phone, authenticator app, password, remembered
browsers, sessions.

Every view here needs a fully signed-in session: LoginRequiredMiddleware lets nobody else
in, and a half-finished sign-in (password without the code) is not signed in.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.models import token_hash
from accounts.password_forms import PasswordChangeForm
from accounts.services import (
    remembered_browser_revoke,
    remembered_browsers_revoke,
    user_full_name_change,
    user_password_change,
    user_sessions_end,
)
from accounts.settings_forms import AuthenticatorSetupForm, FullNameForm, PhoneCodeForm
from accounts.user_agents import browser_label
from core.errors import ApplicationError
from mfa.authenticator import (
    AuthenticatorError,
    authenticator_device,
    authenticator_qr_svg,
    authenticator_remove,
    authenticator_secret,
    authenticator_setup_confirm,
    authenticator_setup_pending,
    authenticator_setup_start,
)
from mfa.codes import CodeError, code_delivery_failure, seconds_until_resend
from mfa.forms import PhoneForm
from mfa.models import RememberedBrowser, SmsDevice
from mfa.phone_change import (
    phone_change_confirm,
    phone_change_pending,
    phone_change_resend,
    phone_change_start,
    phone_masked,
)

# Binds the code of a phone change to this session, as a sign-in attempt binds its code.
PHONE_CHANGE_ATTEMPT = "phone_change_attempt"
# The authenticator app being set up in this session: only this session shows its key and
# may confirm it.
AUTHENTICATOR_SETUP = "authenticator_setup"


def _remembered_browsers(request) -> list[dict]:
    cookie = request.COOKIES.get(settings.MFA_REMEMBER_COOKIE_NAME, "")
    this_hash = token_hash(cookie) if cookie and len(cookie) <= 100 else ""
    browsers = RememberedBrowser.objects.filter(
        user=request.user, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-pk")
    return [
        {
            "id": browser.pk,
            "label": browser_label(browser.user_agent),
            "first_used": browser.created_at,
            "last_used": browser.last_used_at,
            "ip": browser.last_ip,
            "this_browser": bool(this_hash)
            and constant_time_compare(this_hash, browser.token_hash),
        }
        for browser in browsers
    ]


def _settings_page(request, *, name_form=None, password_form=None):
    user = request.user
    device = SmsDevice.objects.filter(user=user, confirmed=True).first()
    return render(
        request,
        "accounts/settings.html",
        {
            "name_form": name_form or FullNameForm(initial={"full_name": user.full_name}),
            "password_form": password_form or PasswordChangeForm(user, request),
            "phone": phone_masked(device.number if device else ""),
            "has_phone": device is not None,
            "authenticator": authenticator_device(user),
            "browsers": _remembered_browsers(request),
        },
    )


def personal_settings(request):
    return _settings_page(request)


@require_POST
def full_name_change(request):
    form = FullNameForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, name_form=form)
    user_full_name_change(user=request.user, full_name=form.cleaned_data["full_name"])
    messages.success(request, "Your name has been saved.")
    return redirect("accounts:settings")


@sensitive_post_parameters()
@require_POST
def password_change(request):
    form = PasswordChangeForm(request.user, request, data=request.POST)
    if not form.is_valid():
        return _settings_page(request, password_form=form)
    user_password_change(
        user=request.user,
        password=form.cleaned_data["password1"],
        request=request,
        keep_current=True,
    )
    messages.success(
        request,
        "Your password has been changed. You were signed out on every other browser.",
    )
    return redirect("accounts:settings")


def phone_change(request):
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = secrets.token_urlsafe(32)
        try:
            phone_change_start(
                user=request.user, number=form.cleaned_data["phone"], attempt=attempt,
                request=request,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            request.session[PHONE_CHANGE_ATTEMPT] = attempt
            return redirect("accounts:settings-phone-code")
    device = SmsDevice.objects.filter(user=request.user, confirmed=True).first()
    return render(
        request,
        "accounts/settings_phone.html",
        {"form": form, "phone": phone_masked(device.number if device else "")},
    )


def _phone_change_state(request):
    attempt = request.session.get(PHONE_CHANGE_ATTEMPT)
    device = phone_change_pending(user=request.user) if attempt else None
    return (attempt, device) if device is not None else None


def phone_change_code(request):
    state = _phone_change_state(request)
    if state is None:
        return redirect("accounts:settings-phone")
    attempt, device = state
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone_change_confirm(
                device=device, attempt=attempt, code=form.cleaned_data["code"], request=request
            )
        except CodeError as error:
            form.add_error("code", error.message)
        else:
            del request.session[PHONE_CHANGE_ATTEMPT]
            messages.success(request, "Your phone number has been changed.")
            return redirect("accounts:settings")
    return render(
        request,
        "accounts/settings_phone_code.html",
        {
            "form": form,
            "number_hint": str(device.pending_number)[-2:],
            "resend_in": seconds_until_resend(device),
            "undelivered": code_delivery_failure(device),
        },
    )


@require_POST
def phone_change_code_resend(request):
    state = _phone_change_state(request)
    if state is None:
        return redirect("accounts:settings-phone")
    attempt, device = state
    try:
        phone_change_resend(device=device, attempt=attempt, request=request)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "A new code is on its way.")
    return redirect("accounts:settings-phone-code")


@require_POST
def authenticator_begin(request):
    try:
        device = authenticator_setup_start(user=request.user)
    except AuthenticatorError as error:
        messages.error(request, error.message)
        return redirect("accounts:settings")
    request.session[AUTHENTICATOR_SETUP] = device.pk
    return redirect("accounts:settings-authenticator")


# The page shows the secret key: no cache, shared or private, may keep it.
@never_cache
def authenticator_setup(request):
    device = authenticator_setup_pending(
        user=request.user, device_id=request.session.get(AUTHENTICATOR_SETUP)
    )
    if device is None:
        return redirect("accounts:settings")
    form = AuthenticatorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            authenticator_setup_confirm(
                device=device, code=form.cleaned_data["code"], request=request
            )
        except (CodeError, AuthenticatorError) as error:
            form.add_error("code", error.message)
        else:
            del request.session[AUTHENTICATOR_SETUP]
            messages.success(
                request, "Your authenticator app is set up. Signing in now asks for its code."
            )
            return redirect("accounts:settings")
    return render(
        request,
        "accounts/settings_authenticator.html",
        {
            "form": form,
            "qr_code": authenticator_qr_svg(device),
            "key": authenticator_secret(device),
        },
    )


def authenticator_removal(request):
    device = authenticator_device(request.user)
    if device is None:
        return redirect("accounts:settings")
    if request.method == "POST":
        authenticator_remove(user=request.user, request=request)
        messages.success(
            request,
            "Your authenticator app has been removed. Signing in now sends a code by text "
            "message.",
        )
        return redirect("accounts:settings")
    return render(request, "accounts/settings_authenticator_remove.html", {"device": device})


@require_POST
def remembered_browser_forget(request, browser_id: int):
    # Only the member's own rows: anybody else's id answers exactly like a missing one.
    if not remembered_browser_revoke(user=request.user, browser_id=browser_id, request=request):
        raise Http404
    messages.success(request, "Browser forgotten. It will need a code at its next sign-in.")
    return redirect("accounts:settings")


@require_POST
def remembered_browsers_forget_all(request):
    remembered_browsers_revoke(user=request.user, request=request)
    messages.success(
        request, "All browsers forgotten. Each will need a code at its next sign-in."
    )
    return redirect("accounts:settings")


@require_POST
def other_sessions_end(request):
    user_sessions_end(user=request.user, request=request, keep_current=True)
    messages.success(request, "You're signed out of all other sessions.")
    return redirect("accounts:settings")
