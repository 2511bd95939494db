"""Remove user phone (SPEC journey 8): the reset, who may do it, and whom to ask."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from accounts.models import SecurityEvent
from mfa import sms
from mfa.models import RememberedBrowser, SmsDevice
from organizations.members import MemberError, member_phone_reset
from organizations.models import Membership
from tests.helpers import page as text
from tests.helpers import signed_in
from tests.organizations.members_helpers import lands_on_sign_in

ADMIN = Membership.Role.ADMIN
URL = "/organizations/acme-events/members/"
REMEMBER_COOKIE = "__Host-backstage_remember"


@pytest.fixture
def grace(enrolled_member, acme):
    """An admin of Acme, with a phone of her own."""
    return enrolled_member("grace@example.com", organization=acme, role=ADMIN,
                           full_name="Grace Hopper", number="+41791110000")


@pytest.fixture
def ada(enrolled_member, acme):
    return enrolled_member("ada@example.com", organization=acme)


@pytest.fixture
def outsider(enrolled_member, globex):
    """An admin of Globex, which Ada does not belong to."""
    return enrolled_member("hank@globex.test", organization=globex, role=ADMIN,
                           full_name="Hank Scorpio", number="+41792220000")


def phone_url(member) -> str:
    return f"{URL}{member.pk}/phone/remove/"


def browser_signed_in(sign_in, last_code, *, remember=False) -> Client:
    """A new browser that goes through the password and the code, as Ada."""
    browser = Client()
    assert sign_in(client=browser)["Location"] == "/signin/code/"
    data = {"code": last_code(), **({"remember": "on"} if remember else {})}
    assert browser.post("/signin/code/", data)["Location"] == "/"
    assert browser.get("/").status_code == 200
    return browser


def phone_kept(user) -> bool:
    return SmsDevice.objects.filter(user=user, confirmed=True).exists()


# The reset from the Members page -------------------------------------------------------------


def test_remove_user_phone_asks_first_without_javascript(grace, ada):
    page = text(signed_in(grace).get(phone_url(ada)))
    assert "Remove the phone of Ada Lovelace?" in page
    assert f'<form method="post" action="{phone_url(ada)}">' in page
    assert '<button type="submit">Remove user phone</button>' in page
    assert phone_kept(ada)


def test_the_reset_removes_the_phone_records_it_and_tells_the_member(
    grace, ada, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(grace).post(phone_url(ada), follow=True)

    assert "The phone of Ada Lovelace was removed" in text(response)
    assert not SmsDevice.objects.filter(user=ada).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PHONE_REMOVED)
    assert (event.actor, event.subject, event.organization) == (grace, ada, acme)
    assert event.detail["number_ending"] == "67"
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSIONS_ENDED, subject=ada,
                                        actor=grace).exists()
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    body = email.body
    assert "Grace Hopper, an admin of Acme Events," in body
    assert "removed the phone" in body
    assert "If you didn't ask for this, contact your organization admin" in body
    assert "+41791234567" not in body


def test_after_the_reset_every_browser_signs_in_again_and_is_asked_for_a_new_number(
    grace, ada, sign_in, last_code
):
    first = browser_signed_in(sign_in, last_code)
    second = browser_signed_in(sign_in, last_code)
    remembered = browser_signed_in(sign_in, last_code, remember=True)
    assert RememberedBrowser.objects.filter(user=ada).count() == 1

    signed_in(grace).post(phone_url(ada))

    for browser in (first, second, remembered):
        assert lands_on_sign_in(browser.get("/"))
    assert not RememberedBrowser.objects.filter(user=ada).exists()
    sms.outbox.clear()
    # The remembered browser no longer skips the SMS step, and there is no number to send to.
    assert sign_in(client=remembered)["Location"] == "/signin/phone/"
    assert sign_in(client=first)["Location"] == "/signin/phone/"
    assert sms.outbox == []


def test_a_half_finished_sign_in_is_ended_by_the_reset(grace, ada, sign_in, client):
    assert sign_in()["Location"] == "/signin/code/"
    signed_in(grace).post(phone_url(ada))
    assert client.post("/signin/code/", {"code": "123456"})["Location"] == "/signin/"


def test_the_member_sets_a_new_number_at_the_next_sign_in(grace, ada, sign_in, client,
                                                          last_code):
    signed_in(grace).post(phone_url(ada))
    sign_in()
    client.post("/signin/phone/", {"country": "CH", "number": "078 765 43 21"})
    assert client.post("/signin/code/", {"code": last_code()})["Location"] == "/"
    assert str(SmsDevice.objects.get(user=ada).number) == "+41787654321"


def test_a_member_without_a_phone_is_told_so_and_nothing_happens(grace, make_member, acme):
    alan = make_member("alan@example.com", organization=acme, full_name="Alan Turing")
    alan_browser = signed_in(alan)
    response = signed_in(grace).post(phone_url(alan), follow=True)
    assert "Alan Turing has no phone to remove." in text(response)
    assert alan_browser.get("/").status_code == 200
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PHONE_REMOVED).exists()


# The wrong people ----------------------------------------------------------------------------


def nothing_happened_to(member, browser):
    assert phone_kept(member)
    assert browser.get("/").status_code == 200  # still signed in
    assert not SecurityEvent.objects.filter(
        kind__in=[SecurityEvent.Kind.PHONE_REMOVED, SecurityEvent.Kind.SESSIONS_ENDED]
    ).exists()
    assert mail.outbox == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_admin_cannot_remove_their_own_phone_and_is_told_to_ask_another_admin(grace, method):
    grace_browser = signed_in(grace)
    response = getattr(grace_browser, method)(phone_url(grace), follow=True)
    assert "You can't remove your own phone. Ask another admin of your organization" \
        in text(response)
    nothing_happened_to(grace, grace_browser)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_who_is_not_an_admin_gets_403(ada, make_member, acme, method):
    alan = make_member("alan@example.com", organization=acme)
    ada_browser = signed_in(ada)
    assert getattr(signed_in(alan), method)(phone_url(ada)).status_code == 403
    assert getattr(ada_browser, method)(phone_url(ada)).status_code == 403
    nothing_happened_to(ada, ada_browser)


@pytest.mark.parametrize("slug", ["acme-events", "globex", "no-such-organization"])
def test_an_admin_of_another_organization_guessing_the_id_gets_404(ada, outsider, slug):
    ada_browser = signed_in(ada)
    url = f"/organizations/{slug}/members/{ada.pk}/phone/remove/"
    for method in ("get", "post"):
        assert getattr(signed_in(outsider), method)(url).status_code == 404
    nothing_happened_to(ada, ada_browser)


def test_anonymous_is_sent_to_sign_in_and_nothing_happens(client, ada):
    ada_browser = signed_in(ada)
    assert lands_on_sign_in(client.post(phone_url(ada)))
    nothing_happened_to(ada, ada_browser)


def test_without_the_csrf_token_nothing_happens(grace, ada):
    ada_browser = signed_in(ada)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(grace)
    assert browser.post(phone_url(ada)).status_code == 403
    nothing_happened_to(ada, ada_browser)


# The one function, called directly (Django admin calls it too) --------------------------------


def test_the_service_refuses_an_admin_of_another_organization(ada, outsider):
    with pytest.raises(PermissionDenied):
        member_phone_reset(actor=outsider, member=ada)
    assert phone_kept(ada)


def test_the_service_refuses_the_admin_on_themself(grace):
    with pytest.raises(MemberError) as raised:
        member_phone_reset(actor=grace, member=grace)
    assert raised.value.code == "own_phone"
    assert phone_kept(grace)


def test_support_staff_reset_from_anywhere_and_the_email_says_support(
    make_user, ada, django_capture_on_commit_callbacks
):
    staff = make_user("support@backstage.test", full_name="Sam Support", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        member_phone_reset(actor=staff, member=ada)
    assert not phone_kept(ada)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PHONE_REMOVED)
    assert (event.actor, event.subject, event.organization) == (staff, ada, None)
    assert "Sam Support from Backstage Support" in mail.outbox[0].body


def test_a_reset_that_fails_sends_no_email(grace, make_member, acme,
                                          django_capture_on_commit_callbacks):
    alan = make_member("alan@example.com", organization=acme)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(MemberError):
        member_phone_reset(actor=grace, member=alan)
    assert mail.outbox == []


# "Can't use this phone?" on the code step ----------------------------------------------------


def test_the_code_step_shows_whom_to_ask_after_the_password(
    ada, grace, outsider, make_member, acme, sign_in, client
):
    make_member("alan@example.com", organization=acme, role=ADMIN, full_name="Alan Turing")
    sign_in()
    page = text(client.get("/signin/code/"))
    assert "Can't use this phone?" in page
    assert "Admins of Acme Events" in page
    for words in ["Grace Hopper", "grace@example.com", "Alan Turing", "alan@example.com"]:
        assert words in page
    assert "hank@globex.test" not in page


def test_an_admin_on_the_code_step_sees_the_other_admins_not_themself(grace, sign_in, client):
    sign_in(email="grace@example.com")
    page = text(client.get("/signin/code/"))
    assert "Can't use this phone?" in page
    assert "grace@example.com" not in page
    assert "Contact Backstage Support" in page


def test_whom_to_ask_is_not_shown_before_the_password(client, ada, grace):
    response = client.get("/signin/code/")
    assert response["Location"] == "/signin/"
    assert "grace@example.com" not in text(client.get("/signin/"))
