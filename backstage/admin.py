from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.signin import METHOD_KEY, Method, session_has_second_factor
from core.http import safe_next_url


class BackstageAdminSite(admin.AdminSite):
    """Django admin for support staff, behind the same sign-in and a second factor given in
    this session (a remembered browser is not one: such a session is asked for a code)."""

    site_header = _("Backstage support")
    site_title = _("Backstage support")

    def has_permission(self, request):
        return super().has_permission(request) and session_has_second_factor(request)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        # Admin's own password form would skip the second factor: use the real sign-in.
        next_url = safe_next_url(request) or reverse("admin:index")
        if not request.user.is_authenticated:
            return redirect_to_login(next_url)
        # Staff whose remembered browser skipped the code enter one now (mfa.views.step_up).
        if (
            request.user.is_active
            and request.user.is_staff
            and request.session.get(METHOD_KEY) == Method.REMEMBERED
        ):
            return redirect(reverse("mfa:step-up") + "?" + urlencode({"next": next_url}))
        raise PermissionDenied
