"""Django admin for support staff (issue 3, item 8): the same functions as the pages, the same
security events, and the logs read-only. The staff's session has passed the second factor."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.utils import timezone

from accounts.invitations import invitation_create
from accounts.models import Invitation, SecurityEvent
from mfa.models import RememberedBrowser, SmsDevice, SmsMessage
from organizations.models import Membership
from tests.helpers import page as text
from tests.helpers import signed_in

Kind = SecurityEvent.Kind
USERS = "/admin/accounts/user/"
INVITATIONS = "/admin/accounts/invitation/"
EVENTS = "/admin/accounts/securityevent/"
SMS = "/admin/mfa/smsmessage/"
DEVICES = "/admin/mfa/smsdevice/"


@pytest.fixture
def staff(make_user):
    return make_user("support@backstage.test", full_name="Sam Support", is_staff=True,
                     is_superuser=True)


@pytest.fixture
def admin(staff):
    """Django admin in a browser of support staff who passed the SMS step."""
    return signed_in(staff, method="sms")


@pytest.fixture
def ada(enrolled_member, acme):
    return enrolled_member("ada@example.com", organization=acme)


def action(browser, url, name, objects, *, confirmed=True, follow=True):
    data = {"action": name, ACTION_CHECKBOX_NAME: [o.pk for o in objects]}
    if confirmed:
        data["post"] = "yes"
    return browser.post(url, data, follow=follow)


# Users ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "ada@example", "LOVELACE", "+41791234567", "+41 79 123 45 67", "079 123 45 67",
    "0041791234567", "1234567",
])
def test_users_are_found_by_email_name_or_phone_number(admin, ada, make_member, acme, query):
    make_member("alan@example.com", organization=acme, full_name="Alan Turing")
    page = text(admin.get(USERS, {"q": query}))
    assert "ada@example.com" in page
    assert "alan@example.com" not in page


def test_the_user_list_shows_email_name_staff_and_phone_status(admin, ada, make_member, acme):
    make_member("alan@example.com", organization=acme, full_name="Alan Turing")
    page = text(admin.get(USERS))
    for words in ["ada@example.com", "Ada Lovelace", "Alan Turing", "Phone set", "No phone"]:
        assert words in page


@pytest.mark.parametrize("query", ["' OR 1=1 --", "<script>x</script>", "%", "+", "\\"])
def test_user_search_with_sql_or_html_is_harmless(admin, ada, query):
    response = admin.get(USERS, {"q": query})
    assert response.status_code == 200
    assert "<script>x" not in response.content.decode()


def test_accounts_are_not_added_in_admin_but_through_invitations(admin):
    assert admin.get(USERS + "add/").status_code == 403


def test_remove_user_phone_asks_first_then_does_the_same_as_the_members_page(
    admin, staff, ada, django_capture_on_commit_callbacks
):
    ada_browser = signed_in(ada)
    confirm = action(admin, USERS, "remove_user_phone", [ada], confirmed=False)
    assert "Remove the phone of these people?" in text(confirm)
    assert SmsDevice.objects.filter(user=ada).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = action(admin, USERS, "remove_user_phone", [ada])

    assert "Removed the phone of 1 person" in text(done)
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert ada_browser.get("/")["Location"].startswith("/signin/")
    event = SecurityEvent.objects.get(kind=Kind.PHONE_REMOVED)
    assert (event.actor, event.subject, event.organization) == (staff, ada, None)
    assert SecurityEvent.objects.filter(kind=Kind.SESSIONS_ENDED, actor=staff,
                                        subject=ada).exists()
    assert mail.outbox[0].to == ["ada@example.com"]
    assert "Sam Support from Backstage Support" in mail.outbox[0].body


def test_remove_user_phone_forgets_remembered_browsers(admin, ada):
    RememberedBrowser.objects.create(user=ada, token_hash="0" * 64,
                                     expires_at="2999-01-01T00:00:00Z")
    action(admin, USERS, "remove_user_phone", [ada])
    assert not RememberedBrowser.objects.filter(user=ada).exists()


def test_support_staff_cannot_remove_their_own_phone_from_admin(admin, staff):
    SmsDevice.objects.create(user=staff, number="+41790000000", confirmed=True)
    page = text(action(admin, USERS, "remove_user_phone", [staff]))
    assert "You can't remove your own phone." in page
    assert SmsDevice.objects.filter(user=staff).exists()


def test_a_user_without_a_phone_is_reported_not_reset(admin, make_member, acme):
    alan = make_member("alan@example.com", organization=acme, full_name="Alan Turing")
    page = text(action(admin, USERS, "remove_user_phone", [alan]))
    assert "Alan Turing has no phone to remove." in page
    assert not SecurityEvent.objects.filter(kind=Kind.PHONE_REMOVED).exists()


def test_end_all_sessions_signs_the_person_out_everywhere_and_is_recorded(admin, staff, ada):
    browsers = [signed_in(ada), signed_in(ada)]
    confirm = action(admin, USERS, "end_all_sessions", [ada], confirmed=False)
    assert "End every session of these people?" in text(confirm)
    assert all(b.get("/").status_code == 200 for b in browsers)

    action(admin, USERS, "end_all_sessions", [ada])
    assert all(b.get("/")["Location"].startswith("/signin/") for b in browsers)
    assert SmsDevice.objects.filter(user=ada).exists()
    assert SecurityEvent.objects.get(kind=Kind.SESSIONS_ENDED).actor == staff


# The same actions from the SMS devices list --------------------------------------------------


def test_remove_user_phone_from_the_device_list(admin, staff, ada):
    device = SmsDevice.objects.get(user=ada)
    action(admin, DEVICES, "remove_user_phone", [device])
    assert not SmsDevice.objects.filter(user=ada).exists()
    assert SecurityEvent.objects.get(kind=Kind.PHONE_REMOVED).actor == staff


def test_devices_cannot_be_added_changed_or_deleted_around_the_reset(admin, ada):
    device = SmsDevice.objects.get(user=ada)
    assert admin.get(DEVICES + "add/").status_code == 403
    assert admin.post(f"{DEVICES}{device.pk}/delete/", {"post": "yes"}).status_code == 403
    admin.post(f"{DEVICES}{device.pk}/change/", {"number": "+41780000000"})
    device.refresh_from_db()
    assert str(device.number) == "+41791234567"


# Invitations ---------------------------------------------------------------------------------


def test_support_staff_invite_through_the_same_function_as_the_members_page(admin, staff, acme):
    page = text(admin.post(INVITATIONS + "add/", {
        "email": "Alan@Example.com", "organization": acme.pk, "role": "admin",
    }, follow=True))
    assert "We've sent an invitation to" in page
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == \
        ("alan@example.com", "admin", staff)
    assert mail.outbox[0].to == ["alan@example.com"]
    assert SecurityEvent.objects.get(kind=Kind.INVITATION_SENT).actor == staff


@pytest.mark.parametrize(("data", "error"), [
    ({"email": "not-an-email", "role": "member"}, "Enter a valid email address."),
    ({"email": "a@b.com\r\nBcc: x@y.com", "role": "member"}, "Enter a valid email address."),
    ({"email": "alan@example.com", "role": "owner"}, "Select a valid choice."),
    ({"email": "alan@example.com", "role": "member", "organization": "999999"},
     "Select a valid choice."),
])
def test_bad_invitations_in_admin_say_why_and_change_nothing(admin, acme, data, error):
    data = {"organization": acme.pk, **data}
    response = admin.post(INVITATIONS + "add/", data)
    assert response.status_code == 200
    assert error in text(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_resend_invitation_sends_a_new_link_and_is_recorded(admin, staff, acme):
    invitation = invitation_create(email="alan@example.com", organization=acme)
    old_hash = invitation.token_hash
    mail.outbox.clear()
    page = text(action(admin, INVITATIONS, "resend_invitation", [invitation]))
    assert "We've sent a new invitation to alan@example.com." in page
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash
    assert mail.outbox[0].to == ["alan@example.com"]
    resent = SecurityEvent.objects.filter(kind=Kind.INVITATION_SENT, detail__resent=True).get()
    assert resent.actor == staff and resent.organization == acme


def test_revoke_invitation_from_admin(admin, acme):
    invitation = invitation_create(email="alan@example.com", organization=acme)
    action(admin, INVITATIONS, "revoke_invitation", [invitation])
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


@pytest.mark.parametrize("state", ["pending", "expired", "accepted", "revoked"])
def test_invitations_are_filtered_by_state(admin, acme, state):
    states = ["pending", "expired", "accepted", "revoked"]
    for email in states:
        invitation_create(email=f"{email}@example.com", organization=acme)
    now = timezone.now()
    Invitation.objects.filter(email="expired@example.com").update(expires_at=now)
    Invitation.objects.filter(email="accepted@example.com").update(accepted_at=now)
    Invitation.objects.filter(email="revoked@example.com").update(revoked_at=now)
    page = text(admin.get(INVITATIONS, {"state": state}))
    listed = [e for e in states if f"{e}@example.com" in page]
    assert listed == [state]
    assert f'<td class="field-state">{state.capitalize()}</td>' in page


def test_invitations_are_not_edited_or_deleted_in_admin(admin, acme):
    invitation = invitation_create(email="alan@example.com", organization=acme)
    url = f"{INVITATIONS}{invitation.pk}/"
    admin.post(url + "change/", {"email": "evil@example.com", "role": "admin"})
    assert admin.post(url + "delete/", {"post": "yes"}).status_code == 403
    invitation.refresh_from_db()
    assert (invitation.email, invitation.role) == ("alan@example.com", "member")


# Logs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [EVENTS, SMS])
def test_logs_are_read_only(admin, ada, url):
    assert admin.get(url).status_code == 200
    assert admin.get(url + "add/").status_code == 403


def test_security_events_cannot_be_changed_or_deleted(admin, ada, acme):
    event = SecurityEvent.objects.create(kind=Kind.PHONE_SET, subject=ada, organization=acme)
    assert admin.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    admin.post(f"{EVENTS}{event.pk}/change/", {"kind": Kind.PHONE_REMOVED})
    event.refresh_from_db()
    assert event.kind == Kind.PHONE_SET
    assert "delete_selected" not in text(admin.get(EVENTS))


def test_security_events_are_filtered_by_kind_date_and_organization(
    admin, ada, acme, make_organization
):
    globex = make_organization("Globex")
    SecurityEvent.objects.create(kind=Kind.PHONE_SET, subject=ada, organization=acme)
    SecurityEvent.objects.create(kind=Kind.ROLE_CHANGED, subject=ada, organization=globex)
    by_kind = text(admin.get(EVENTS, {"kind__exact": Kind.PHONE_SET}))
    assert "Phone set" in by_kind and "0 of" not in by_kind
    assert "<td class=\"field-kind\">Role changed" not in by_kind
    by_org = text(admin.get(EVENTS, {"organization__id__exact": globex.pk}))
    assert "field-kind\">Role changed" in by_org and "field-kind\">Phone set" not in by_org
    this_year = SecurityEvent.objects.first().created_at.year
    assert "field-kind\">Phone set" in text(admin.get(EVENTS, {"created_at__year": this_year}))
    assert "field-kind\">Phone set" not in text(admin.get(EVENTS, {"created_at__year": 2000}))


def test_sms_log_is_filtered_by_status_and_organization(admin, ada, acme):
    SmsMessage.objects.create(user=ada, to="+41791234567", status=SmsMessage.Status.FAILED)
    assert "+41791234567" in text(admin.get(SMS, {"status__exact": "failed"}))
    assert "+41791234567" not in text(admin.get(SMS, {"status__exact": "sent"}))
    organization_filter = {"user__memberships__organization__id__exact": acme.pk}
    assert "+41791234567" in text(admin.get(SMS, organization_filter))


# Organizations -------------------------------------------------------------------------------


def test_organization_admin_shows_the_mfa_opt_in(admin, acme):
    page = text(admin.get(f"/admin/organizations/organization/{acme.pk}/change/"))
    assert "MFA opt-in" in page


# The wrong people ----------------------------------------------------------------------------


def test_staff_without_the_second_factor_cannot_act(staff, ada):
    browser = signed_in(staff, method="password")
    action(browser, USERS, "remove_user_phone", [ada], follow=False)
    assert SmsDevice.objects.filter(user=ada).exists()
    assert not SecurityEvent.objects.filter(kind=Kind.PHONE_REMOVED).exists()


def test_an_organization_admin_who_is_not_staff_cannot_use_django_admin(ada, make_member, acme):
    grace = make_member("grace@example.com", organization=acme, role=Membership.Role.ADMIN)
    browser = signed_in(grace)
    response = action(browser, USERS, "remove_user_phone", [ada], follow=False)
    assert response.status_code in {302, 403}
    assert SmsDevice.objects.filter(user=ada).exists()


def test_staff_without_permissions_see_no_users(make_user, ada):
    plain_staff = make_user("helper@backstage.test", is_staff=True)
    browser = signed_in(plain_staff)
    assert browser.get(USERS).status_code == 403
    action(browser, USERS, "remove_user_phone", [ada], follow=False)
    assert SmsDevice.objects.filter(user=ada).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, ada):
    response = action(client, USERS, "remove_user_phone", [ada], follow=False)
    assert response["Location"].startswith("/signin/") or "/admin/login/" in response["Location"]
    assert SmsDevice.objects.filter(user=ada).exists()
