"""Personal settings (SPEC journey 7): the page, name, password, remembered browsers,
sessions. The pages that change the phone, the authenticator app, the passkeys, the
text-message fallback or the recovery codes are mfa's (mfa.settings_views,
mfa.passkey_views).

Every view here needs a fully signed-in session: LoginRequiredMiddleware lets nobody else
in, and a half-finished sign-in (password without the code) is not signed in.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.password_forms import PasswordChangeForm
from accounts.reauth import reauthentication_required
from accounts.services import (
    user_full_name_change,
    user_language_change,
    user_other_sessions_end,
    user_password_change,
)
from accounts.settings_forms import FullNameForm, LanguageForm
from accounts.user_agents import browser_label
from mfa.authenticator import authenticator_device
from mfa.factors import strong_factor_set_up
from mfa.models import SmsDevice
from mfa.passkeys import passkeys_list
from mfa.phone_change import phone_masked
from mfa.recovery import RECOVERY_CODES_LOW, recovery_codes_left
from mfa.trust import (
    remembered_browser_revoke,
    remembered_browsers_list,
    remembered_browsers_revoke,
)


def _remembered_browsers(request) -> list[dict]:
    return [
        {
            "id": browser.pk,
            "label": browser_label(browser.user_agent),
            "first_used": browser.created_at,
            "last_used": browser.last_used_at,
            "ip": browser.last_ip,
            "this_browser": browser.this_browser,
        }
        for browser in remembered_browsers_list(user=request.user, request=request)
    ]


def _settings_page(request, *, name_form=None, password_form=None, language_form=None):
    user = request.user
    device = SmsDevice.objects.on_file().filter(user=user).first()
    codes_left = recovery_codes_left(user)
    return render(
        request,
        "accounts/settings.html",
        {
            "name_form": name_form or FullNameForm(initial={"full_name": user.full_name}),
            "language_form": language_form or LanguageForm(initial={"language": user.language}),
            "password_form": password_form or PasswordChangeForm(user, request),
            "phone": phone_masked(device.number if device else ""),
            "has_phone": device is not None,
            "authenticator": authenticator_device(user),
            "passkeys": passkeys_list(user),
            # The text-message fallback can be turned off only with a strong factor.
            "fallback_choice": device is not None and strong_factor_set_up(user),
            "sms_fallback": device is None or device.sms_fallback,
            "recovery_codes_left": codes_left,
            "recovery_codes_low": 0 < codes_left < RECOVERY_CODES_LOW,
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
    messages.success(request, _("Your name has been saved."))
    return redirect("accounts:settings")


@require_POST
def language_change(request):
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, language_form=form)
    language = form.cleaned_data["language"]
    user_language_change(user=request.user, language=language)
    # The confirmation is already in the new language; blank is the browser's, which the
    # next request picks from Accept-Language.
    with translation.override(language or translation.get_language_from_request(request)):
        # gettext, not the lazy _: the message is worded now, in the new language.
        messages.success(request, gettext("Your language has been saved."))
    response = redirect("accounts:settings")
    # Signed out again, the sign-in pages stay in the chosen language (set_language's cookie).
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


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
        _("Your password has been changed. You were signed out on every other browser."),
    )
    return redirect("accounts:settings")


@require_POST
def remembered_browser_forget(request, browser_id: int):
    # Only the member's own rows: anybody else's id answers exactly like a missing one.
    if not remembered_browser_revoke(user=request.user, browser_id=browser_id, request=request):
        raise Http404
    messages.success(request, _("Browser forgotten. It will need a code at its next sign-in."))
    return redirect("accounts:settings")


@require_POST
def remembered_browsers_forget_all(request):
    remembered_browsers_revoke(user=request.user, request=request)
    messages.success(
        request, _("All browsers forgotten. Each will need a code at its next sign-in.")
    )
    return redirect("accounts:settings")


@require_POST
@reauthentication_required
def other_sessions_end(request):
    user_other_sessions_end(user=request.user, request=request)
    messages.success(request, _("You're signed out of all other sessions."))
    return redirect("accounts:settings")
