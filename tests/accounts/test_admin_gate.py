"""Django admin for support staff sits behind the same password and SMS code (SECURITY 44)."""

from accounts.signin import METHOD_KEY
from mfa import sms
from mfa.models import SmsDevice
from tests.helpers import page


def sign_in_with_code(sign_in, client, last_code):
    sign_in()
    return client.post("/signin/code/", {"code": last_code()})


def test_admin_login_page_is_the_real_sign_in(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/signin/?next=/admin/"


def test_anonymous_admin_visit_ends_on_the_sign_in_page(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/signin/?next=/admin/"


def test_staff_reach_admin_after_password_and_code(enrolled_member, sign_in, client, last_code):
    enrolled_member(is_staff=True, is_superuser=True)
    sign_in(next="/admin/")
    response = client.post("/signin/code/", {"code": last_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_staff_with_only_the_password_do_not_reach_admin(enrolled_member, sign_in, client):
    enrolled_member(is_staff=True, is_superuser=True)
    sign_in()
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/signin/?next=/admin/"
    assert "_auth_user_id" not in client.session


def test_staff_signed_in_without_a_second_factor_are_refused(make_user, client):
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    session = client.session
    session[METHOD_KEY] = "sso"
    session.save()
    assert client.get("/admin/", follow=True).status_code == 403


def test_members_who_are_not_staff_are_refused(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in_with_code(sign_in, client, last_code)
    assert client.get("/admin/", follow=True).status_code == 403


# A remembered browser is not a second factor in this session (issue 10, item 2) -----------


def remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock):
    """Staff whose browser was remembered, signed in again with the password alone."""
    staff = enrolled_member(is_staff=True, is_superuser=True)
    sign_in()
    client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    client.post("/signout/")
    sms.outbox.clear()
    clock.advance(seconds=31)  # past the resend cooldown of the sign-in's code
    assert sign_in(next="/admin/")["Location"] == "/admin/"
    return staff


def test_staff_with_a_remembered_browser_are_asked_for_a_code_before_admin(
    enrolled_member, sign_in, client, last_code, clock
):
    remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/signin/step-up/?next=%2Fadmin%2F"
    assert "Django admin needs a second factor in this session" in page(response)
    assert sms.outbox == []  # opening the page sends nothing; the button does

    response = client.post("/signin/step-up/sms/", {"next": "/admin/"})
    assert response["Location"] == "/signin/step-up/?next=%2Fadmin%2F"
    assert sms.outbox[-1].to == "+41791234567"
    assert client.get("/admin/").status_code == 302  # not before the code is entered

    response = client.post("/signin/step-up/?next=/admin/", {"code": last_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_step_up_code_does_not_open_admin(
    enrolled_member, sign_in, client, last_code, clock
):
    remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock)
    client.post("/signin/step-up/sms/", {"next": "/admin/"})
    wrong = "000000" if last_code() != "000000" else "111111"
    response = client.post("/signin/step-up/?next=/admin/", {"code": wrong})
    assert "That code isn't right." in page(response)
    assert client.get("/admin/").status_code == 302


def test_staff_with_an_authenticator_app_step_up_with_its_code(
    enrolled_member, sign_in, client, last_code, clock, add_authenticator, app_code
):
    staff = remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock)
    device = add_authenticator(staff)
    response = client.get("/signin/step-up/?next=/admin/")
    assert "Enter the code from your authenticator app" in page(response)
    response = client.post("/signin/step-up/?next=/admin/", {"code": app_code(device)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert sms.outbox == []


def test_step_up_goes_only_to_a_safe_next(enrolled_member, sign_in, client, last_code, clock):
    remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock)
    client.post("/signin/step-up/sms/", {"next": "https://evil.example/"})
    response = client.post("/signin/step-up/?next=https://evil.example/", {"code": last_code()})
    assert response["Location"] == "/admin/"


def test_a_step_up_ends_with_the_sign_in(enrolled_member, sign_in, client, last_code, clock):
    remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock)
    client.post("/signin/step-up/sms/", {"next": "/admin/"})
    client.post("/signin/step-up/?next=/admin/", {"code": last_code()})
    client.post("/signout/")
    assert sign_in(next="/admin/")["Location"] == "/admin/"  # remembered again
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith(
        "/signin/step-up/"
    )


def test_step_up_sends_no_text_to_staff_who_turned_text_messages_off(
    enrolled_member, sign_in, client, last_code, clock, add_authenticator
):
    staff = remembered_staff_sign_in(enrolled_member, sign_in, client, last_code, clock)
    add_authenticator(staff)
    SmsDevice.objects.filter(user=staff).update(sms_fallback=False)
    response = client.post("/signin/step-up/sms/", {"next": "/admin/"}, follow=True)
    assert "You turned off codes by text message for signing in." in page(response)
    assert sms.outbox == []
    assert client.get("/admin/").status_code == 302
