from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("mfa.urls")),
    path("", include("organizations.urls")),
]

if settings.DEBUG:
    urlpatterns.append(path("dev/", include("backstage.outbox")))
