from django.urls import include, path

from accounts import invitation_views, password_reset_views, settings_views, views
from mfa.urls import settings_urlpatterns as mfa_settings_urlpatterns

app_name = "accounts"
urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("signout/", views.SignOutView.as_view(), name="signout"),
    # "accept" before "<token>", which would otherwise match it.
    path("invitation/accept/", invitation_views.invitation_accept, name="invitation-accept"),
    path("invitation/<str:token>/", invitation_views.invitation, name="invitation"),
    path("privacy/", invitation_views.privacy, name="privacy"),
    # Forgot password? ("sent" before "<uidb64>/<token>", though it has one part fewer).
    path("password-reset/", password_reset_views.password_reset, name="password-reset"),
    path(
        "password-reset/sent/", password_reset_views.password_reset_sent,
        name="password-reset-sent",
    ),
    path(
        "password-reset/<uidb64>/<token>/", password_reset_views.PasswordResetConfirm.as_view(),
        name="password-reset-confirm",
    ),
    # Personal settings.
    path("settings/confirm-password/", views.password_confirm, name="password-confirm"),
    path("settings/", settings_views.personal_settings, name="settings"),
    path("settings/name/", settings_views.full_name_change, name="settings-name"),
    path("settings/language/", settings_views.language_change, name="settings-language"),
    path("settings/password/", settings_views.password_change, name="settings-password"),
    # The phone and authenticator app pages are mfa's (mfa.settings_views).
    path("", include(mfa_settings_urlpatterns)),
    path(
        "settings/browsers/<int:browser_id>/forget/", settings_views.remembered_browser_forget,
        name="settings-browser-forget",
    ),
    path(
        "settings/browsers/forget/", settings_views.remembered_browsers_forget_all,
        name="settings-browsers-forget",
    ),
    path(
        "settings/sessions/end-others/", settings_views.other_sessions_end,
        name="settings-sessions-end",
    ),
]
