from django.urls import path

from organizations import sso_views

app_name = "organizations"

# Enterprise login (SAML2) ----------------------------------------------------------------------
urlpatterns = [
    path("signin/enterprise/", sso_views.enterprise_login, name="enterprise-login"),
    path("sso/<slug:slug>/acs/", sso_views.sso_acs, name="sso-acs"),
    path("sso/<slug:slug>/metadata/", sso_views.sso_metadata, name="sso-metadata"),
    path(
        "organizations/<slug:slug>/enterprise-login/",
        sso_views.enterprise_login_settings,
        name="enterprise-login-settings",
    ),
]
