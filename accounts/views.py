from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LogoutView
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignInForm
from accounts.password_forms import PasswordConfirmForm
from accounts.reauth import reauthenticated_at_record, reauthentication_organization
from core.http import redirect_to_next, safe_next_url
from core.limits import duration_words
from mfa.stages import second_factor_start
from organizations.models import Workspace


@login_not_required
def signin(request):
    next_url = safe_next_url(request)
    if request.user.is_authenticated:
        return redirect_to_next(next_url)
    form = SignInForm(
        request, data=request.POST or None, initial={"email": request.GET.get("email", "")[:254]}
    )
    if request.method == "POST" and form.is_valid():
        reauthenticated_at_record(request, form.user)
        return second_factor_start(request, form.user, next_url=next_url)
    return render(request, "accounts/signin.html", {"form": form, "next": next_url})


@sensitive_post_parameters()
@never_cache
def password_confirm(request):
    """Confirm your password, before a security change (accounts.reauth); a member signed in
    through enterprise login confirms through it again."""
    next_url = safe_next_url(request) or resolve_url("accounts:settings")
    if reauthentication_organization(request) is not None:
        return redirect(
            reverse("organizations:enterprise-login-confirm") + "?" + urlencode({"next": next_url})
        )
    form = PasswordConfirmForm(request.user, request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        reauthenticated_at_record(request)
        return redirect(next_url)
    return render(request, "accounts/password_confirm.html", {
        "form": form,
        "next": next_url,
        # With its article: "for an hour", as "for 10 minutes".
        "valid_for": duration_words(settings.REAUTHENTICATION_VALID_FOR),
    })


class SignOutView(LogoutView):
    # The same `next` rule as signing in: "foo" is no page to go to after signing out.
    def get_redirect_url(self):
        return safe_next_url(self.request)


def home(request):
    workspaces = (
        Workspace.objects.filter(organization__memberships__user=request.user)
        .select_related("organization")
        .order_by("organization__name", "name")
    )
    return render(request, "home.html", {"workspaces": workspaces})
