"""The dev outbox: a newcomer reads their invitation and codes at /dev/outbox/ (DEBUG only)."""

from django.core.mail import EmailMultiAlternatives
from django.test import RequestFactory

from backstage.outbox import outbox
from mfa.sms import SmsMessage, get_backend


def test_outbox_shows_sms_and_the_text_part_of_emails(settings, tmp_path, make_user):
    settings.DEBUG = True
    settings.SMS_FILE_PATH = tmp_path / "sms"
    settings.EMAIL_OUTBOX_DIR = tmp_path / "email"
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path / "email")},
        }
    }
    get_backend("mfa.sms.filebased.SmsBackend").send(
        SmsMessage(to="+41791234567", body="Your Backstage code is 123456.")
    )
    link = "http://testserver/invitation/" + "x" * 90 + "/"
    email = EmailMultiAlternatives("You're invited", f"Open {link}", to=["ada@example.com"])
    email.attach_alternative(f"<a href='{link}'>Log in to Backstage</a>" * 5, "text/html")
    email.send()

    request = RequestFactory().get("/dev/outbox/")
    request.user = make_user()
    page = outbox(request).content.decode()
    assert "Your Backstage code is 123456." in page
    assert "Email: You&#x27;re invited" in page
    assert f'<a href="{link}"' in page
    assert 'To: <a href="mailto:ada@example.com">' in page


def test_outbox_is_not_served_without_debug(client):
    assert client.get("/dev/outbox/").status_code == 404
