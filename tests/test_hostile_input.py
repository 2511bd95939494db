"""Input that answered with a server error (issue 10): each now gets a clear message on the
page, or a 400 or 404, and changes nothing. tests/test_fuzz_forms.py then posts generated
input of the same kinds to every form."""

import logging

import idna
import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client

from accounts.models import Invitation, PasswordResetRequest, SecurityEvent, User
from mfa import sms
from mfa import views as mfa_views
from mfa.models import SmsDevice
from mfa.views import SIGN_IN_AGAIN
from organizations.members import member_phone_reset
from organizations.models import EmailDomain, Membership, SamlAuthnRequest
from tests.helpers import page, signed_in

# Five labels of eleven CJK characters: 67 characters as typed, 207 in the xn-- form that is
# stored. With a 60-character local part the address is 128 characters typed, 268 stored.
LONG_DOMAIN = ".".join(["日本語漢字表記例題試験"] * 5) + ".example"
LONG_EMAIL = "a" * 60 + "@" + LONG_DOMAIN
TOO_LONG = "This email address is too long."
# U+202E (right-to-left override) makes the end of the address display reversed.
BIDI_EMAIL = "grace@example.com\u202e"
MEMBERS = "/organizations/acme-events/members/"


def test_the_long_email_is_short_as_typed_and_too_long_as_stored():
    assert len(LONG_EMAIL) <= 254
    assert len("a" * 60 + "@" + idna.encode(LONG_DOMAIN, uts46=True).decode()) > 254


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme Events", slug="acme-events")


@pytest.fixture
def admin_browser(make_member, acme):
    grace = make_member("grace@acme.test", organization=acme, role=Membership.Role.ADMIN)
    return signed_in(grace)


@pytest.fixture
def support(make_user):
    return signed_in(make_user("support@backstage.test", is_staff=True, is_superuser=True))


# An email longer than its column once stored, or that IDNA 2008 refuses ---------------------


@pytest.mark.parametrize(("email", "message"), [
    (LONG_EMAIL, TOO_LONG), (BIDI_EMAIL, "Enter a valid email."),
])
def test_sign_in_refuses_the_email_and_counts_no_failure(client, make_user, email, message):
    make_user()
    response = client.post("/signin/", {"email": email, "password": "whatever it is"})
    assert response.status_code == 200
    assert message in page(response)
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize(("email", "message"), [
    (LONG_EMAIL, TOO_LONG), (BIDI_EMAIL, "Enter a valid email."),
])
def test_forgot_password_refuses_the_email_and_stores_nothing(client, db, email, message):
    response = client.post("/password-reset/", {"email": email})
    assert response.status_code == 200
    assert message in page(response)
    assert not PasswordResetRequest.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(("email", "message"), [
    (LONG_EMAIL, TOO_LONG),
    (BIDI_EMAIL, "Enter a valid email address, like name@example.com."),
    # An international label longer than 63 characters once in its xn-- form.
    ("grace@" + "ü" * 60 + "ß.example", "Enter a valid email address, like name@example.com."),
])
def test_members_page_invitation_refuses_the_email_before_storing_or_mailing(
    admin_browser, email, message
):
    response = admin_browser.post(MEMBERS + "invite/", {"email": email, "role": "member"},
                                  follow=True)
    assert response.status_code == 200
    assert message in page(response)
    assert not Invitation.objects.exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.INVITATION_SENT).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(("email", "message"), [
    (LONG_EMAIL, TOO_LONG), (BIDI_EMAIL, "Enter a valid email address."),
])
def test_admin_invitation_refuses_the_email(support, acme, email, message):
    response = support.post("/admin/accounts/invitation/add/", {
        "email": email, "organization": acme.pk, "role": "member",
    })
    assert response.status_code == 200
    assert message in page(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_enterprise_login_refuses_an_email_too_long_as_stored(client, acme):
    EmailDomain.objects.create(
        organization=acme, domain=idna.encode(LONG_DOMAIN, uts46=True).decode()
    )
    response = client.post("/signin/enterprise/", {"email": LONG_EMAIL})
    assert response.status_code == 200
    assert TOO_LONG in page(response)
    assert not SamlAuthnRequest.objects.exists()


# A NUL byte ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "data", "message"), [
    ("/signin/", {"email": "ada@example.com\x00", "password": "x"}, "Enter a valid email."),
    ("/signin/", {"email": "ada@example.com", "password": "x\x00"}, "Null characters"),
    ("/password-reset/", {"email": "ada\x00@example.com"}, "Enter a valid email."),
    ("/signin/enterprise/", {"email": "ada@acme.test\x00"}, "Null characters"),
])
def test_a_nul_byte_is_refused_by_the_form(client, make_user, path, data, message):
    make_user()
    response = client.post(path, data)
    assert response.status_code == 200
    assert message in page(response)
    assert not AccessAttempt.objects.exists()
    assert not PasswordResetRequest.objects.exists()


def test_a_nul_byte_in_the_member_search_shows_every_member(admin_browser):
    response = admin_browser.get(MEMBERS, {"q": "gr\x00ace"})
    assert response.status_code == 200
    assert "Search for letters, digits or symbols only." in page(response)


# A `next` that is neither a path nor a URL of this site ----------------------------------


@pytest.mark.parametrize("next_url", ["foo", "admin:index", "home", "/\x00", "/" + "a" * 2001,
                                      "https://evil.test/", "//evil.test/"])
def test_a_bad_next_never_costs_the_member_their_code_or_sign_in(
    client, enrolled_member, sign_in, last_code, next_url
):
    enrolled_member()
    assert sign_in(next=next_url)["Location"] == "/signin/code/"
    response = client.post("/signin/code/", {"code": last_code()})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("next_url", ["foo", "admin:index", "/\x00"])
def test_a_bad_next_is_left_out_of_the_sign_in_page(client, db, next_url):
    response = client.get("/signin/", {"next": next_url})
    assert response.status_code == 200
    assert 'name="next"' not in page(response)


@pytest.mark.parametrize("next_url", ["foo", "admin:index"])
def test_a_signed_in_member_with_a_bad_next_goes_home(make_user, next_url):
    browser = signed_in(make_user())
    response = browser.get("/signin/", {"next": next_url})
    assert response["Location"] == "/"


@pytest.mark.parametrize(("next_url", "location"), [
    ("foo", "/signin/"), ("admin:index", "/signin/"), ("/privacy/", "/privacy/"),
])
def test_signing_out_follows_only_a_next_of_this_site(make_user, next_url, location):
    browser = signed_in(make_user())
    response = browser.post("/signout/", {"next": next_url})
    assert response["Location"] == location
    assert "_auth_user_id" not in browser.session


def test_a_good_next_still_works(client, enrolled_member, sign_in, last_code):
    enrolled_member()
    sign_in(next="/settings/?tab=1")
    response = client.post("/signin/code/", {"code": last_code()})
    assert response["Location"] == "/settings/?tab=1"


def test_an_absolute_next_of_this_site_still_works(client, enrolled_member, sign_in, last_code):
    enrolled_member()
    sign_in(next="http://testserver/settings/")
    response = client.post("/signin/code/", {"code": last_code()})
    assert response["Location"] == "http://testserver/settings/"


# A code posted while an admin removes the member's phone ------------------------------


@pytest.fixture
def phone_removed_mid_request(monkeypatch, make_member, acme):
    """The Members page's Remove user phone, run by an admin just after the code step of
    the member's sign-in looked their phone up."""
    grace = make_member("grace@acme.test", organization=acme, role=Membership.Role.ADMIN)

    def then_reset(looked_up):
        def lookup_then_reset(user, **kwargs):  # the member, or their id (pending_phone)
            member = user if isinstance(user, User) else User.objects.get(pk=user)
            if kwargs.get("lock"):
                # Under the row lock that the reset takes first, the reset can only have come
                # before the read (or wait for the sign-in's commit: the race tests).
                member_phone_reset(actor=grace, member=member, organization=acme)
                return looked_up(user, **kwargs)
            found = looked_up(user, **kwargs)
            if found is not None:  # (a page that follows finds it removed already)
                member_phone_reset(actor=grace, member=member, organization=acme)
            return found

        return lookup_then_reset

    # The code step reads the phone with pending_phone (a right code's read: under its row
    # lock), "Send again" with _sms_device.
    for name in ("pending_phone", "_sms_device"):
        monkeypatch.setattr(mfa_views, name, then_reset(getattr(mfa_views, name)))


def test_a_code_posted_while_the_phone_is_removed_fails_cleanly(
    client, enrolled_member, acme, sign_in, last_code, phone_removed_mid_request
):
    ada = enrolled_member(organization=acme)
    sign_in()
    response = client.post("/signin/code/", {"code": last_code()})
    # The removal ended the member's sign-ins with their other sessions: told to sign in
    # again, no code checked against a phone that is gone.
    assert response["Location"] == "/signin/"
    assert "_auth_user_id" not in client.session
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CODE_FAILED).exists()
    assert str(SIGN_IN_AGAIN) in page(client.get("/signin/", follow=True))


def test_a_malformed_code_posted_while_the_phone_is_removed_fails_cleanly(
    client, enrolled_member, acme, sign_in, phone_removed_mid_request
):
    # A code the form refuses (malformed) shows the page again: its phone read without a
    # lock, the removal just after it.
    ada = enrolled_member(organization=acme)
    sign_in()
    response = client.post("/signin/code/", {"code": "12"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not SmsDevice.objects.filter(user=ada).exists()


def test_a_resend_while_the_phone_is_removed_fails_cleanly(
    client, enrolled_member, acme, sign_in, clock, phone_removed_mid_request
):
    ada = enrolled_member(organization=acme)
    sign_in()
    clock.advance(minutes=1)  # past the resend cooldown
    sent = len(sms.outbox)
    response = client.post("/signin/code/resend/", follow=True)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert len(sms.outbox) == sent


# Multipart bodies that cannot be parsed ------------------------------------------------


@pytest.mark.parametrize("path", ["/signin/", "/password-reset/", "/signin/enterprise/",
                                  "/sso/no-such-organization/acs/", "/no-such-page/"])
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_multipart_body_without_a_boundary_is_a_400_without_a_traceback(
    db, caplog, path, content_type
):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/signin/")  # a CSRF cookie, so that the CSRF check reads the body
    with caplog.at_level(logging.INFO):
        response = browser.post(path, data=b"field=value", content_type=content_type)
    assert response.status_code == 400
    assert [record for record in caplog.records if record.exc_info] == []


@pytest.mark.parametrize(("email", "message"), [
    (LONG_EMAIL, TOO_LONG), (BIDI_EMAIL, "Enter a valid email address."),
])
def test_admin_user_change_refuses_the_email(support, make_user, email, message):
    """Support staff giving a member a new email in Django admin meet the same checks as
    every other email field: valid as stored, or refused before anything is saved."""
    ada = make_user()
    response = support.post(f"/admin/accounts/user/{ada.pk}/change/", {
        "email": email, "full_name": ada.full_name, "is_active": "on",
    })
    assert response.status_code == 200
    assert message in page(response)
    ada.refresh_from_db()
    assert ada.email == "ada@example.com"
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.EMAIL_CHANGED).exists()

