from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.password_forms import NewPasswordForm, PasswordResetRequestForm
from accounts.password_reset import (
    ERRORS,
    PasswordResetError,
    password_reset_complete,
    password_reset_request,
    password_reset_tokens,
)
from core.http import client_ip


@login_not_required
def password_reset(request):
    form = PasswordResetRequestForm(
        request.POST or None, initial={"email": request.GET.get("email", "")[:254]}
    )
    if request.method == "POST" and form.is_valid():
        password_reset_request(email=form.cleaned_data["email"], ip=client_ip(request) or None)
        # One answer whatever happened, so that the page tells nobody which emails exist.
        return redirect("accounts:password-reset-sent")
    return render(request, "accounts/password_reset.html", {"form": form})


@login_not_required
def password_reset_sent(request):
    return render(request, "accounts/password_reset_sent.html")


class PasswordResetConfirm(PasswordResetConfirmView):
    """Django's view: the link's token moves into the session, then a token-free URL.

    Our form (our password rules) and our ending: every session ends, and the person
    goes to the sign-in page with their email filled in.
    """

    form_class = NewPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    token_generator = password_reset_tokens

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("problem", ERRORS["invalid"])
        return context

    def form_valid(self, form):
        token = self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, "")
        try:
            user = password_reset_complete(
                user=self.user,
                token=token,
                password=form.cleaned_data["password1"],
                request=self.request,
            )
        except PasswordResetError as error:
            self.validlink = False
            return self.render_to_response(
                self.get_context_data(problem=error.message, problem_code=error.code)
            )
        messages.success(
            self.request, _("Your password has been changed. Sign in with your new password.")
        )
        return redirect(f"{reverse('accounts:signin')}?{urlencode({'email': user.email})}")
