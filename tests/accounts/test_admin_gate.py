"""Django admin for support staff sits behind the same password and SMS code (SECURITY 44)."""

from accounts.signin import METHOD_KEY


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
