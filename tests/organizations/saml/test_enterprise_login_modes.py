"""Mandatory and optional enterprise login, seen from the password side (SPEC journey 6)."""

from accounts.invitations import invitation_create
from accounts.models import User
from mfa import sms
from mfa.models import SmsDevice
from organizations.models import EnterpriseLogin, Membership

REFUSED = "Your organization signs you in with Enterprise login."


def make_mandatory(organization):
    EnterpriseLogin.objects.filter(organization=organization).update(mandatory=True)


def test_mandatory_refuses_the_password_before_checking_it(ada, acme, sign_in):
    make_mandatory(acme)
    for password in ("correct horse battery", "a wrong password"):
        response = sign_in(email="ADA@acme.com", password=password)
        page = response.content.decode()
        assert REFUSED in page
        assert 'href="/signin/enterprise/?email=ADA%40acme.com"' in page
        assert "_auth_user_id" not in response.wsgi_request.session
    assert sms.outbox == []


def test_the_way_to_enterprise_login_keeps_where_the_member_was_going(ada, acme, sign_in):
    make_mandatory(acme)
    page = sign_in(email="ada@acme.com", next="/settings/").content.decode()
    assert 'href="/signin/enterprise/?email=ada%40acme.com&amp;next=/settings/"' in page


def test_mandatory_is_not_skipped_by_a_remembered_browser(ada, acme, sign_in, client, last_code):
    SmsDevice.objects.create(user=ada, number="+41791234567", confirmed=True)
    sign_in(email="ada@acme.com")
    client.post("/signin/code/", {"code": last_code(), "remember": "on"})
    client.post("/signout/")
    make_mandatory(acme)
    assert REFUSED in sign_in(email="ada@acme.com").content.decode()


def test_mandatory_covers_the_unicode_spelling_of_a_claimed_xn_domain(
    acme, buecher_example, make_member, sign_in
):
    make_member(email="lin@bücher.example", organization=acme)
    make_mandatory(acme)
    response = sign_in(email="Lin@BÜCHER.example")
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session
    assert sms.outbox == []


def test_optional_lets_the_password_in_with_the_sms_step(ada, sign_in):
    assert sign_in(email="ada@acme.com")["Location"] == "/signin/phone/"


def test_disabled_enterprise_login_leaves_the_password_way(ada, acme, sign_in):
    EnterpriseLogin.objects.filter(organization=acme).update(enabled=False, mandatory=True)
    assert sign_in(email="ada@acme.com")["Location"] == "/signin/phone/"


def test_invitation_to_a_mandatory_domain_leads_to_enterprise_login(acme, client):
    make_mandatory(acme)
    invitation = invitation_create(email="lin@acme.com", organization=acme)
    client.get(f"/invitation/{invitation.token}/")
    page = client.get("/invitation/accept/").content.decode()
    assert 'name="password1"' not in page
    assert "Enterprise login" in page

    response = client.post(
        "/invitation/accept/", {"full_name": "Lin Chen", "accept_privacy": "on"}
    )
    assert response["Location"] == "/signin/enterprise/?email=lin%40acme.com"
    user = User.objects.get(email="lin@acme.com")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, organization=acme).exists()


def test_invitation_to_an_optional_domain_still_creates_a_password(acme, client):
    invitation = invitation_create(email="lin@acme.com", organization=acme)
    client.get(f"/invitation/{invitation.token}/")
    assert 'name="password1"' in client.get("/invitation/accept/").content.decode()
