from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LogoutView
from django.shortcuts import render

from accounts.forms import SignInForm
from core.http import redirect_to_next, safe_next_url
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
        return second_factor_start(request, form.user, next_url=next_url)
    return render(request, "accounts/signin.html", {"form": form, "next": next_url})


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
