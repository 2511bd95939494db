from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from accounts.signin import METHOD_KEY, Method

SECOND_FACTOR_METHODS = {Method.SMS, Method.TOTP, Method.RECOVERY, Method.REMEMBERED}


class BackstageAdminSite(admin.AdminSite):
    """Django admin for support staff, behind the same sign-in and second factor."""

    site_header = "Backstage support"
    site_title = "Backstage support"

    def has_permission(self, request):
        return (
            super().has_permission(request)
            and request.session.get(METHOD_KEY) in SECOND_FACTOR_METHODS
        )

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        # Admin's own password form would skip the second factor: use the real sign-in.
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
