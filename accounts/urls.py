from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import invitation_views, views

app_name = "accounts"
urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("signout/", auth_views.LogoutView.as_view(), name="signout"),
    # "accept" before "<token>", which would otherwise match it.
    path("invitation/accept/", invitation_views.invitation_accept, name="invitation-accept"),
    path("invitation/<str:token>/", invitation_views.invitation, name="invitation"),
    path("privacy/", invitation_views.privacy, name="privacy"),
]
