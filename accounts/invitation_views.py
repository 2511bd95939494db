from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from accounts import invitations
from accounts.invitation_forms import InvitationAcceptForm
from accounts.invitations import InvitationError
from organizations.sso import enterprise_login_mandatory

SESSION_TOKEN_KEY = "invitation_token"  # noqa: S105 (a session key, not a secret)

# What a browser and a cache should make of a link that cannot be used.
PROBLEM_STATUS = {"invalid": 404, "missing": 404}
GONE = 410


def _problem(request, error: InvitationError):
    request.session.pop(SESSION_TOKEN_KEY, None)
    return render(
        request, "accounts/invitation_problem.html", {"error": error},
        status=PROBLEM_STATUS.get(error.code, GONE),
    )


@login_not_required
@require_safe  # HEAD too: mail scanners probe links before the person clicks
@never_cache
def invitation(request, token):
    try:
        invitations.invitation_for_token(token)
    except InvitationError as error:
        return _problem(request, error)
    # Out of the URL into the session, so it can't leak via Referer (as PasswordResetConfirmView).
    request.session[SESSION_TOKEN_KEY] = token
    return redirect("accounts:invitation-accept")


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation_accept(request):
    token = request.session.get(SESSION_TOKEN_KEY)
    try:
        if not token:
            raise InvitationError(
                "Open the link in your invitation email to create your account.",
                code="missing",
            )
        invitation = invitations.invitation_for_token(token)
    except InvitationError as error:
        return _problem(request, error)

    enterprise_login = enterprise_login_mandatory(invitation.email)
    form = InvitationAcceptForm(
        data=request.POST if request.method == "POST" else None,
        email=invitation.email,
        enterprise_login=enterprise_login,
    )
    if form.is_valid():
        try:
            user = invitations.invitation_accept(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data.get("password1"),
                request=request,
            )
        except InvitationError as error:
            return _problem(request, error)
        request.session.pop(SESSION_TOKEN_KEY, None)
        next_page = "organizations:enterprise-login" if enterprise_login else "accounts:signin"
        messages.success(request, "Your account has been created. Sign in to continue.")
        return redirect(reverse(next_page) + "?" + urlencode({"email": user.email}))
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@login_not_required
@require_GET
def privacy(request):
    return render(request, "accounts/privacy.html")
