"""mfa's pages of personal settings (SPEC journey 7): changing the phone, setting up or
removing the authenticator app, the text-message fallback and recovery codes. The settings
page itself, which shows them and links here, is accounts.settings_views; the URLs are
mfa.urls.settings_urlpatterns, which accounts.urls includes so that these pages keep their
names in the "accounts" namespace beside the rest of personal settings
(accounts:settings-phone, ...).

Every view here needs a fully signed-in session: LoginRequiredMiddleware lets nobody else
in, and a half-finished sign-in (password without the code) is not signed in. Those that
change how the member signs in also need a fresh password (accounts.reauth): the first
step of each, since the next (the code page of a phone change, the set-up page of an app)
works only for the change that this session started there.
"""

import secrets

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.reauth import reauthentication_required
from core.errors import ApplicationError
from core.http import client_ip, client_of
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
from mfa.factors import FactorError, sms_fallback_set
from mfa.forms import AuthenticatorSetupForm, PhoneCodeForm, PhoneForm
from mfa.models import SmsDevice
from mfa.phone_change import (
    phone_change_confirm,
    phone_change_pending,
    phone_change_resend,
    phone_change_start,
    phone_masked,
)
from mfa.recovery import (
    RECOVERY_CODE_COUNT,
    RecoveryCodeError,
    recovery_code_format,
    recovery_code_normalize,
    recovery_codes_create,
)

# Binds the code of a phone change to this session, as a sign-in attempt binds its code.
PHONE_CHANGE_ATTEMPT = "phone_change_attempt"
# The authenticator app being set up in this session: only this session shows its key and
# may confirm it.
AUTHENTICATOR_SETUP = "authenticator_setup"
# New recovery codes, from their creation to the one page that shows them (which removes
# them from the session: they are shown once).
RECOVERY_CODES_NEW = "recovery_codes_new"


@reauthentication_required
def phone_change(request):
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = secrets.token_urlsafe(32)
        try:
            phone_change_start(
                user=request.user, number=form.cleaned_data["phone"], attempt=attempt,
                ip=client_ip(request),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            request.session[PHONE_CHANGE_ATTEMPT] = attempt
            return redirect("accounts:settings-phone-code")
    device = SmsDevice.objects.on_file().filter(user=request.user).first()
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
                device=device, attempt=attempt, code=form.cleaned_data["code"],
                **client_of(request),
            )
        except CodeError as error:
            form.add_error("code", error.message)
        else:
            del request.session[PHONE_CHANGE_ATTEMPT]
            messages.success(request, _("Your phone number has been changed."))
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
        phone_change_resend(device=device, attempt=attempt, ip=client_ip(request))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A new code is on its way."))
    return redirect("accounts:settings-phone-code")


@require_POST
@reauthentication_required
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
                device=device, code=form.cleaned_data["code"], **client_of(request)
            )
        except (CodeError, AuthenticatorError) as error:
            form.add_error("code", error.message)
        else:
            del request.session[AUTHENTICATOR_SETUP]
            messages.success(
                request, _("Your authenticator app is set up. Signing in now asks for its code.")
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


@reauthentication_required
def authenticator_removal(request):
    device = authenticator_device(request.user)
    if device is None:
        return redirect("accounts:settings")
    if request.method == "POST":
        authenticator_remove(user=request.user, **client_of(request))
        messages.success(
            request,
            _("Your authenticator app has been removed. Signing in now sends a code by text "
            "message."),
        )
        return redirect("accounts:settings")
    return render(request, "accounts/settings_authenticator_remove.html", {"device": device})


@require_POST
@reauthentication_required
def sms_fallback_change(request):
    """Turn the text-message fallback of sign-ins off (a member with a strong factor) or on."""
    on = request.POST.get("sms_fallback") == "on"
    try:
        sms_fallback_set(user=request.user, on=on, **client_of(request))
    except FactorError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Signing in can send a code by text message again.")
            if on
            else _("Signing in no longer offers a code by text message."),
        )
    return redirect("accounts:settings")


@require_POST
@reauthentication_required
def recovery_codes_new(request):
    """"Create recovery codes" and "Create new recovery codes": ten new codes replace any
    earlier ones, and the next page shows them."""
    try:
        codes = recovery_codes_create(user=request.user, **client_of(request))
    except RecoveryCodeError as error:
        messages.error(request, error.message)
        return redirect("accounts:settings")
    request.session[RECOVERY_CODES_NEW] = codes
    return redirect("accounts:settings-recovery-codes")


# The page shows codes that sign in: no cache, shared or private, may keep it.
@never_cache
def recovery_codes_show(request):
    codes = request.session.pop(RECOVERY_CODES_NEW, None)
    if not codes:
        return redirect("accounts:settings")
    return render(request, "accounts/settings_recovery_codes.html", {"codes": codes})


def _recovery_codes_text(user, codes: list[str]) -> str:
    lines = [
        _("Backstage recovery codes for %(email)s") % {"email": user.email},
        _("Saved %(at)s (UTC)") % {"at": date_format(timezone.now(), _("j F Y, H:i"))},
        "",
        str(_("Each code signs you in once, in place of a code by text message or from "
              "your authenticator app. Keep them somewhere safe.")),
        "",
        *codes,
        "",
    ]
    return "\n".join(lines)


# Works without JavaScript: the codes page posts back the codes it shows (it has them in
# its HTML already), since the server keeps only their hashes.
@never_cache
@require_POST
def recovery_codes_download(request):
    """"Download as text": the codes posted, as a text file; anything else posted is left
    out, so that the file only ever holds what could be a code."""
    normalized = (recovery_code_normalize(code) for code in request.POST.getlist("code"))
    codes = [recovery_code_format(code) for code in normalized if code][:RECOVERY_CODE_COUNT]
    if not codes:
        return redirect("accounts:settings")
    response = HttpResponse(
        _recovery_codes_text(request.user, codes), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="backstage-recovery-codes.txt"'
    return response
