from django.urls import path

from mfa import views, webhooks

app_name = "mfa"
urlpatterns = [
    path("signin/phone/", views.enroll, name="enroll"),
    path("signin/code/", views.verify, name="verify"),
    path("signin/code/resend/", views.resend, name="resend"),
    path("signin/app/", views.authenticator, name="authenticator"),
    path("signin/app/sms/", views.authenticator_sms, name="authenticator-sms"),
    path("sms/status/", webhooks.twilio_status, name="sms-status"),
]
