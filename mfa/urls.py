from django.urls import path

from mfa import passkey_views, settings_views, views, webhooks

app_name = "mfa"
urlpatterns = [
    path("signin/phone/", views.enroll, name="enroll"),
    path("signin/code/", views.verify, name="verify"),
    path("signin/code/resend/", views.resend, name="resend"),
    path("signin/app/", views.authenticator, name="authenticator"),
    path("signin/app/sms/", views.authenticator_sms, name="authenticator-sms"),
    path("signin/passkey/", passkey_views.passkey, name="passkey"),
    path("signin/passkey/options/", passkey_views.passkey_options, name="passkey-options"),
    # "Sign in with a passkey", with no password.
    path("signin/with-passkey/", passkey_views.passkey_signin, name="passkey-signin"),
    path(
        "signin/with-passkey/options/", passkey_views.passkey_signin_options,
        name="passkey-signin-options",
    ),
    path("signin/step-up/", views.step_up, name="step-up"),
    path("signin/step-up/sms/", views.step_up_sms, name="step-up-sms"),
    path(
        "signin/step-up/passkey/options/", passkey_views.step_up_passkey_options,
        name="step-up-passkey-options",
    ),
    path("signin/recovery/", views.recovery, name="recovery"),
    path("sms/status/", webhooks.twilio_status, name="sms-status"),
]

# mfa's pages of personal settings, included by accounts.urls under the "accounts" namespace:
# they are pages of the one personal settings area (accounts:settings-phone, ...).
settings_urlpatterns = [
    path("settings/phone/", settings_views.phone_change, name="settings-phone"),
    path("settings/phone/code/", settings_views.phone_change_code, name="settings-phone-code"),
    path(
        "settings/phone/code/resend/", settings_views.phone_change_code_resend,
        name="settings-phone-resend",
    ),
    path(
        "settings/authenticator/", settings_views.authenticator_setup,
        name="settings-authenticator",
    ),
    path(
        "settings/authenticator/start/", settings_views.authenticator_begin,
        name="settings-authenticator-start",
    ),
    path(
        "settings/authenticator/remove/", settings_views.authenticator_removal,
        name="settings-authenticator-remove",
    ),
    path("settings/passkeys/add/", passkey_views.passkey_add, name="settings-passkey-add"),
    path(
        "settings/passkeys/options/", passkey_views.passkey_add_options,
        name="settings-passkey-options",
    ),
    path(
        "settings/passkeys/<int:passkey_id>/name/", passkey_views.passkey_name,
        name="settings-passkey-name",
    ),
    path(
        "settings/passkeys/<int:passkey_id>/remove/", passkey_views.passkey_removal,
        name="settings-passkey-remove",
    ),
    path(
        "settings/phone/fallback/", settings_views.sms_fallback_change,
        name="settings-sms-fallback",
    ),
    path(
        "settings/recovery-codes/create/", settings_views.recovery_codes_new,
        name="settings-recovery-codes-create",
    ),
    path("settings/recovery-codes/", settings_views.recovery_codes_show,
         name="settings-recovery-codes"),
    path(
        "settings/recovery-codes/download/", settings_views.recovery_codes_download,
        name="settings-recovery-codes-download",
    ),
]
