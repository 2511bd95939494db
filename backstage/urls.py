from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.views import home

# /healthz is answered by backstage.health.HealthCheckMiddleware, before any session is loaded.
urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("mfa.urls")),
    path("", include("organizations.urls")),
]

if settings.DEBUG:
    urlpatterns.append(path("dev/", include("backstage.outbox")))
