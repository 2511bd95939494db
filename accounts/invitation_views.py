from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from accounts import invitations
from accounts.invitation_forms import InvitationAcceptForm
from accounts.invitations import InvitationError
from core.http import client_of
from organizations.sso import enterprise_login_mandatory

SESSION_TOKEN_KEY = "invitation_token"  # noqa: S105 (a session key, not a secret)
JOINED = _("You've joined {organization}.")
ALREADY_MEMBER = _("You're already a member of {organization}.")

# What a browser and a cache should make of a link that cannot be used.
PROBLEM_STATUS = {"invalid": 404, "missing": 404, "other_account": 403}
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
                _("Open the link in your invitation email again."), code="missing"
            )
        invitation = invitations.invitation_for_token(token)
    except InvitationError as error:
        return _problem(request, error)
    if invitations.invitation_account_exists(invitation):
        return _join(request, invitation, token)

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
                **client_of(request),
            )
        except InvitationError as error:
            return _problem(request, error)
        request.session.pop(SESSION_TOKEN_KEY, None)
        next_page = "organizations:enterprise-login" if enterprise_login else "accounts:signin"
        messages.success(request, _("Your account has been created. Sign in to continue."))
        return redirect(reverse(next_page) + "?" + urlencode({"email": user.email}))
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


def _join(request, invitation, token):
    """The invitation of an address that has an account: its owner signs in, then joins."""
    # Back to the link itself rather than to the accept page: enterprise login comes back in
    # a new session (the IdP posts cross-site), which has lost the token. The link in `next`
    # is worth nothing without signing in as the invited account.
    link = reverse("accounts:invitation", kwargs={"token": token})
    if not request.user.is_authenticated:
        signin = (
            "organizations:enterprise-login"
            if enterprise_login_mandatory(invitation.email) else "accounts:signin"
        )
        return render(request, "accounts/invitation_signin.html", {
            "invitation": invitation,
            "signin_url": reverse(signin) + "?" + urlencode(
                {"email": invitation.email, "next": link}
            ),
        })
    if not invitations.invitation_is_for(invitation, request.user):
        return render(request, "accounts/invitation_other_account.html", {
            "invitation": invitation,
            "invited_email": invitations.email_masked(invitation.email),
            "link": link,
        }, status=403)
    if request.method == "POST":
        try:
            joined = invitations.invitation_join(
                invitation=invitation, user=request.user, **client_of(request)
            )
        except InvitationError as error:
            return _problem(request, error)
        request.session.pop(SESSION_TOKEN_KEY, None)
        words = JOINED if joined else ALREADY_MEMBER
        messages.success(request, words.format(organization=invitation.organization.name))
        return redirect("home")
    return render(request, "accounts/invitation_join.html", {"invitation": invitation})


@login_not_required
@require_GET
def privacy(request):
    return render(request, "accounts/privacy.html")
