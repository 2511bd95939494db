"""The passkey pages: the sign-in step after the password ("Use your passkey"), its options
for the step-up before Django admin, "Sign in with a passkey" without a password, and the
Passkeys section of personal settings.

Each ceremony is two requests: static/js/passkeys.js POSTs for the options (JSON, with a
challenge kept in the session), runs the browser's dialog, and posts its answer in an
ordinary form. The rules are mfa.passkeys'.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.reauth import reauthentication_required
from accounts.signin import Method, signin_complete
from accounts.user_agents import browser_label
from core.http import client_of, client_user_agent, redirect_to_next, safe_next_url
from mfa.factors import signin_alternatives, sms_signin_allowed
from mfa.forms import PasskeyForm, PasskeyNameForm, PasskeySigninForm
from mfa.models import PasskeyDevice, SmsDevice
from mfa.passkeys import (
    PasskeyError,
    authentication_options,
    passkey_authenticate,
    passkey_register,
    passkey_remove,
    passkey_rename,
    registration_options,
)
from mfa.views import _signed_in, pending_signin_required
from organizations.sso import enterprise_login_mandatory

ENTERPRISE_LOGIN_REQUIRED = _("Your organization signs you in with Enterprise login.")


def _options(options_json: str) -> HttpResponse:
    response = HttpResponse(options_json, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


# Sign-in: the passkey after the password -----------------------------------------------------


@require_POST
@pending_signin_required
def passkey_options(request, user, pending):
    return _options(authentication_options(session=request.session, user=user))


@pending_signin_required
def passkey(request, user, pending):
    alternatives = signin_alternatives(user)
    if not alternatives.passkey:
        # The SMS step, or the app's for a member who turned text messages off.
        return redirect("mfa:verify")
    form = PasskeySigninForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = passkey_authenticate(
                session=request.session, credential=form.cleaned_data["credential"],
                user=user, **client_of(request),
            )
        except PasskeyError as error:
            form.add_error(None, error.message)
        else:
            return _signed_in(
                request, user, pending, device,
                method=Method.PASSKEY, remember=form.cleaned_data["remember"],
            )
    phone = SmsDevice.objects.on_file().select_related("user").filter(user=user).first()
    return render(
        request,
        "mfa/passkey.html",
        {
            "form": form,
            # "Send a code by text message instead", unless the member turned it off.
            "sms_allowed": phone is not None and sms_signin_allowed(phone),
            "has_authenticator": alternatives.authenticator,
            "has_recovery_codes": alternatives.recovery_codes,
        },
    )


# Step-up: the passkey again before Django admin (mfa.views.step_up takes the answer) ------


@require_POST
def step_up_passkey_options(request):
    # Signed in (LoginRequiredMiddleware): the challenge is for this member and session.
    return _options(
        authentication_options(session=request.session, user=request.user, step_up=True)
    )


# Sign-in with a passkey alone ---------------------------------------------------------------


@require_POST
@login_not_required
def passkey_signin_options(request):
    return _options(authentication_options(session=request.session, user=None))


@require_POST
@login_not_required
def passkey_signin(request):
    """"Sign in with a passkey": a discoverable passkey that verified the person is both
    factors, so it signs in with no password and no code.

    A locked password (accounts.password_lock) does not stop it: the lock stops guessing of
    the password, and this way in uses no password at all, only the passkey that the
    authenticator verified the person for (as enterprise login uses none either).
    """
    next_url = safe_next_url(request)
    if request.user.is_authenticated:
        return redirect_to_next(next_url)
    form = PasskeyForm(request.POST)
    signin_url = reverse("accounts:signin")
    if next_url:
        signin_url += f"?{urlencode({'next': next_url})}"
    if not form.is_valid():
        messages.error(request, form.non_field_errors()[0])
        return redirect(signin_url)
    try:
        device = passkey_authenticate(
            session=request.session, credential=form.cleaned_data["credential"], user=None,
            **client_of(request),
        )
    except PasskeyError as error:
        messages.error(request, error.message)
        return redirect(signin_url)
    user = device.user
    # Mandatory enterprise login wins over every other way in, a passkey included.
    if enterprise_login_mandatory(user.email):
        messages.info(request, ENTERPRISE_LOGIN_REQUIRED)
        query = {"email": user.email, **({"next": next_url} if next_url else {})}
        return redirect(f"{reverse('organizations:enterprise-login')}?{urlencode(query)}")
    signin_complete(request, user, method=Method.PASSWORDLESS, device=device)
    return redirect_to_next(next_url)


# Personal settings: Passkeys ----------------------------------------------------------------
# Adding, renaming and removing a passkey change how the member signs in, so each asks for
# the password again first when it was not given in the last minutes (accounts.reauth).


@require_POST
@reauthentication_required
def passkey_add_options(request):
    return _options(registration_options(user=request.user, session=request.session))


@require_POST
@reauthentication_required
def passkey_add(request):
    form = PasskeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.non_field_errors()[0])
        return redirect("accounts:settings")
    try:
        device = passkey_register(
            user=request.user, session=request.session,
            credential=form.cleaned_data["credential"],
            name=browser_label(client_user_agent(request)), **client_of(request),
        )
    except PasskeyError as error:
        messages.error(request, error.message)
        return redirect("accounts:settings")
    messages.success(request, _("Passkey added. Signing in now asks for it first."))
    return redirect("accounts:settings-passkey-name", passkey_id=device.pk)


@never_cache
@reauthentication_required
def passkey_name(request, passkey_id: int):
    # Only the member's own passkeys: anybody else's id answers exactly like a missing one.
    device = get_object_or_404(PasskeyDevice, pk=passkey_id, user=request.user)
    form = PasskeyNameForm(request.POST or None, initial={"name": device.name})
    if request.method == "POST" and form.is_valid():
        passkey_rename(user=request.user, passkey_id=device.pk, name=form.cleaned_data["name"])
        messages.success(request, _("Your passkey's name has been saved."))
        return redirect("accounts:settings")
    return render(request, "accounts/settings_passkey_name.html", {"form": form, "device": device})


@require_POST
@reauthentication_required
def passkey_removal(request, passkey_id: int):
    if not passkey_remove(user=request.user, passkey_id=passkey_id, **client_of(request)):
        raise Http404
    messages.success(request, _("Passkey removed."))
    return redirect("accounts:settings")
