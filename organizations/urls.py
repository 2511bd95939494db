from django.urls import path, register_converter

from organizations import member_views, sso_views

app_name = "organizations"

# Enterprise login (SAML2) ----------------------------------------------------------------------
urlpatterns = [
    path("signin/enterprise/", sso_views.enterprise_login, name="enterprise-login"),
    path(
        "signin/enterprise/confirm/", sso_views.enterprise_login_confirm,
        name="enterprise-login-confirm",
    ),
    path("sso/<slug:slug>/acs/", sso_views.sso_acs, name="sso-acs"),
    path("sso/<slug:slug>/metadata/", sso_views.sso_metadata, name="sso-metadata"),
    path(
        "organizations/<slug:slug>/enterprise-login/",
        sso_views.enterprise_login_settings,
        name="enterprise-login-settings",
    ),
]

# Members and Activity (organizations.member_views) ---------------------------------------------
# Ids of at most 18 digits: a longer one cannot be a row, and would overflow the database's
# integer (a 500 on SQLite) instead of answering 404.
register_converter(member_views.IdConverter, "id")
_org = "organizations/<slug:slug>/"
urlpatterns += [
    path(_org + "members/", member_views.members, name="members"),
    path(_org + "members/invite/", member_views.member_invite, name="member-invite"),
    path(_org + "members/<id:member_id>/phone/remove/", member_views.member_phone_remove,
         name="member-phone-remove"),
    path(_org + "members/<id:member_id>/role/", member_views.member_role, name="member-role"),
    path(_org + "members/<id:member_id>/remove/", member_views.member_remove,
         name="member-remove"),
    path(_org + "invitations/<id:invitation_id>/resend/", member_views.invitation_resend_view,
         name="invitation-resend"),
    path(_org + "invitations/<id:invitation_id>/revoke/", member_views.invitation_revoke_view,
         name="invitation-revoke"),
    path(_org + "activity/", member_views.activity, name="activity"),
]
