from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from accounts.views import home

# /healthz is answered by backstage.health.HealthCheckMiddleware, before any session is loaded.
urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    # The footer's language switch (a plain form: no JavaScript needed) and the words of
    # our scripts, both reached before sign-in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path(
        "i18n/js/", login_not_required(JavaScriptCatalog.as_view(domain="djangojs")),
        name="javascript-catalog",
    ),
    path("", include("accounts.urls")),
    path("", include("mfa.urls")),
    path("", include("organizations.urls")),
]

if settings.DEBUG:
    urlpatterns.append(path("dev/", include("backstage.outbox")))
