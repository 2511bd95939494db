"""The app's URLs plus Django's own LoginView, the floor that sign-in flows are measured against."""

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.urls import path

from backstage.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("django-login/", login_not_required(LoginView.as_view()), name="django-login"),
    *app_urlpatterns,
]
