"""The Members page of an organization (SPEC journeys 1, 8 and 10)."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts.invitations import invitation_revoke
from accounts.models import Invitation, SecurityEvent, User
from mfa.models import SmsDevice
from organizations.models import Membership
from tests.helpers import page as text
from tests.helpers import signed_in
from tests.organizations.members_helpers import lands_on_sign_in

ADMIN, MEMBER = Membership.Role.ADMIN, Membership.Role.MEMBER
URL = "/organizations/acme-events/members/"
LONE_ADMIN = "A lone admin can't get their own phone reset by a colleague. Add another admin."
INVITED = "We've sent an invitation to {}."


@pytest.fixture
def grace(make_member, acme):
    """An admin of Acme, signed in below through `admin_browser`."""
    return make_member("grace@example.com", organization=acme, role=ADMIN,
                       full_name="Grace Hopper")


@pytest.fixture
def ada(enrolled_member, acme):
    """A member of Acme with a phone."""
    return enrolled_member("ada@example.com", organization=acme)


@pytest.fixture
def admin_browser(grace):
    return signed_in(grace)


def members_bulk(organization, count, *, start=0):
    users = User.objects.bulk_create(
        User(email=f"person{n:05d}@example.com", full_name=f"Person {n:05d}", password="!")
        for n in range(start, start + count)
    )
    Membership.objects.bulk_create(Membership(user=u, organization=organization) for u in users)
    SmsDevice.objects.bulk_create(
        SmsDevice(user=u, name="Mobile phone", number="+41791234567", confirmed=True)
        for u in users[::2]
    )


def nothing_changed(before):
    assert list(Membership.objects.order_by("pk").values_list("user", "organization", "role")) \
        == before["memberships"]
    assert Invitation.objects.count() == before["invitations"]
    assert mail.outbox == []


@pytest.fixture
def outsider(make_member, globex):
    """An admin of Globex, another organization."""
    return make_member("hank@globex.test", organization=globex, role=ADMIN)


@pytest.fixture
def snapshot(ada, grace):
    mail.outbox.clear()
    return {
        "memberships": list(
            Membership.objects.order_by("pk").values_list("user", "organization", "role")
        ),
        "invitations": Invitation.objects.count(),
    }


# Seeing the page -----------------------------------------------------------------------------


def test_admin_sees_each_member_with_email_role_phone_status_and_last_sign_in(
    admin_browser, ada, grace, make_member, acme
):
    make_member("alan@example.com", organization=acme, full_name="Alan Turing")
    page = text(admin_browser.get(URL))
    assert "<h1>Members</h1>" in page
    for words in ["Ada Lovelace", "ada@example.com", "Alan Turing", "Grace Hopper",
                  "Phone set", "No phone", "Never", "Remove user phone", "Invite member"]:
        assert words in page
    # The admin's own row offers no reset: they ask another admin.
    assert f"/members/{grace.pk}/phone/remove/" not in page
    assert f"/members/{ada.pk}/phone/remove/" in page


def test_last_sign_in_is_shown_once_the_member_has_signed_in(admin_browser, ada, sign_in,
                                                            client, last_code):
    sign_in()
    assert "Never" in text(admin_browser.get(URL))  # the code step is not done yet
    client.post("/signin/code/", {"code": last_code()})
    ada.refresh_from_db()
    page = text(admin_browser.get(URL))
    assert "Never" not in page
    assert f'datetime="{ada.last_login.isoformat()}"' in page


def test_a_member_who_is_not_an_admin_sees_the_admins_and_no_actions(ada, grace):
    page = text(signed_in(ada).get(URL))
    assert "Grace Hopper" in page and "grace@example.com" in page
    for action in ["Remove user phone", "Invite member", "Change role", "Revoke", "Remove"]:
        assert action not in page


@pytest.mark.parametrize("url", [
    "/organizations/acme-events/members/",
    "/organizations/no-such-organization/members/",
])
def test_someone_outside_the_organization_gets_the_same_404_as_for_a_missing_one(
    url, make_member, globex, acme
):
    outsider = make_member("hank@globex.test", organization=globex, role=ADMIN)
    assert signed_in(outsider).get(url).status_code == 404


def test_support_staff_who_are_not_members_use_django_admin_not_this_page(make_user, acme):
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    assert signed_in(staff).get(URL).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    assert lands_on_sign_in(client.get(URL))


def test_lone_admin_is_warned_until_there_is_a_second_admin(admin_browser, make_member, acme):
    assert LONE_ADMIN in text(admin_browser.get(URL))
    make_member("alan@example.com", organization=acme, role=ADMIN)
    assert LONE_ADMIN not in text(admin_browser.get(URL))


# Search and pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["lovelace", "ADA@EXAMPLE", "ada", "example.com"])
def test_search_finds_members_by_name_or_email_whatever_the_case(admin_browser, ada, query,
                                                                 make_member, acme):
    make_member("alan@other.test", organization=acme, full_name="Alan Turing")
    page = text(admin_browser.get(URL, {"q": query}))
    assert "ada@example.com" in page
    if query != "example.com":
        assert "alan@other.test" not in page


@pytest.mark.parametrize("query", [
    "' OR 1=1 --",
    "'; DROP TABLE accounts_user; --",
    "%",
    "_",
    "\\",
    '" onmouseover="alert(1)',
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "ada\u200b",
])
def test_search_strings_with_sql_or_html_find_nothing_and_change_nothing(
    admin_browser, snapshot, query
):
    response = admin_browser.get(URL, {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert 'value="" onmouseover' not in page
    assert "No member matches" in page
    nothing_changed(snapshot)


@pytest.mark.parametrize(("query", "message"), [
    ("ada\x00", "Search for letters, digits or symbols only."),
    ("a" * 255, "Search for at most 254 characters."),
])
def test_search_that_cannot_be_a_name_or_email_says_why_and_lists_everyone(
    admin_browser, ada, query, message
):
    page = text(admin_browser.get(URL, {"q": query}))
    assert message in page
    assert "ada@example.com" in page


def test_members_come_fifty_a_page(admin_browser, acme):
    members_bulk(acme, 120)
    first = text(admin_browser.get(URL))
    assert first.count("@example.com</td>") == 50
    assert "Page 1 of 3" in first
    last = text(admin_browser.get(URL, {"page": 3}))
    assert last.count("@example.com</td>") == 121 - 100  # with the admin


def test_pages_keep_the_search(admin_browser, acme):
    members_bulk(acme, 60)
    page = text(admin_browser.get(URL, {"q": "person"}))
    assert "?q=person&page=2" in page


@pytest.mark.parametrize(("number", "shown"), [
    ("3", 3), ("999", 3), ("99999999999999999999999999", 3), ("-1", 3),
    ("0", 3), ("abc", 1), ("1e5", 1), ("", 1), ("2.5", 1), ("<b>2</b>", 1),
])
def test_out_of_range_or_odd_page_numbers_show_the_first_or_last_page(
    admin_browser, acme, number, shown
):
    members_bulk(acme, 120)
    response = admin_browser.get(URL, {"page": number})
    assert response.status_code == 200
    assert f"Page {shown} of 3" in text(response)


def count_page_queries(browser, django_assert_num_queries, expected):
    with django_assert_num_queries(expected):
        assert browser.get(URL).status_code == 200


@pytest.mark.parametrize("members", [10, 1000])
def test_members_page_costs_the_same_queries_with_10_or_1000_members(
    admin_browser, acme, members, django_assert_num_queries
):
    # session, user, own membership, count, the page with phone status, admins, invitations,
    # the sidebar
    members_bulk(acme, members)
    Invitation.objects.bulk_create(
        Invitation(email=f"new{n}@example.com", organization=acme, token_hash=f"{n:064d}",
                   expires_at="2999-01-01T00:00:00Z")
        for n in range(members // 10)
    )
    count_page_queries(admin_browser, django_assert_num_queries, 8)


# Inviting ------------------------------------------------------------------------------------


def test_admin_invites_someone_new_and_sees_the_invitation_pending(admin_browser, acme):
    response = admin_browser.post(URL + "invite/", {"email": "alan@example.com",
                                                    "role": "member"}, follow=True)
    page = text(response)
    assert INVITED.format("alan@example.com") in page
    assert "Pending invitations" in page and "alan@example.com" in page
    [email] = mail.outbox
    assert email.to == ["alan@example.com"]
    invitation = Invitation.objects.get()
    assert invitation.invited_by.email == "grace@example.com"
    assert invitation.organization == acme


def invite_and_look(browser, email: str) -> tuple:
    """Invite `email` from the Members page; what the admin gets back, with `email`, the
    invitation's id and the per-page CSRF tokens blanked out so that two can be compared."""
    response = browser.post(URL + "invite/", {"email": email, "role": "admin"})
    page = text(browser.get(response["Location"]))
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    invitation = Invitation.objects.get(email=email, revoked_at=None)
    page = page.replace(f"/invitations/{invitation.pk}/", "/invitations/ID/")
    return response.status_code, response["Location"], page.replace(email, "EMAIL")


def test_inviting_an_address_with_or_without_an_account_looks_the_same_to_the_admin(
    admin_browser, make_member, globex, acme
):
    make_member("alan@example.com", organization=globex, full_name="Alan Turing")

    known = invite_and_look(admin_browser, "alan@example.com")
    invitation_revoke(invitation=Invitation.objects.get(email="alan@example.com"))
    unknown = invite_and_look(admin_browser, "lin@example.com")

    assert known == unknown
    status, location, page = known
    assert (status, location) == (302, URL)
    assert INVITED.format("EMAIL") in page
    assert "Pending invitations" in page and '<td data-label="Email">EMAIL</td>' in page
    assert not Membership.objects.filter(user__email="alan@example.com", organization=acme) \
        .exists()
    assert [m.to for m in mail.outbox] == [["alan@example.com"], ["lin@example.com"]]
    sent = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.INVITATION_SENT)
    assert [sorted(event.detail) for event in sent] == [
        ["email", "invitation", "replaced", "role"]
    ] * 2
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBERSHIP_ADDED).exists()


def test_inviting_a_current_member_says_they_are_already_one_and_sends_nothing(
    admin_browser, ada, snapshot
):
    response = admin_browser.post(URL + "invite/", {"email": "ADA@example.com",
                                                    "role": "admin"}, follow=True)
    page = text(response)
    assert "ada@example.com is already a member of Acme Events." in page
    assert "We've sent" not in page
    nothing_changed(snapshot)


@pytest.mark.parametrize("email", [
    "",
    "not-an-email",
    "two@@example.com",
    "a@b@example.com",
    "ada@example.com\r\nBcc: victim@example.com",
    "ada@exam\nple.com",
    "ada\x00@example.com",
    "<script>@example.com",
    "x" * 250 + "@example.com",
    "ada@example..com",
])
def test_invite_with_a_bad_email_says_so_and_changes_nothing(admin_browser, snapshot, email):
    response = admin_browser.post(URL + "invite/", {"email": email, "role": "member"},
                                  follow=True)
    page = text(response)
    assert "email" in page.lower() and "We've sent" not in page
    assert "<script>@" not in response.content.decode()
    nothing_changed(snapshot)


@pytest.mark.parametrize("role", ["", "owner", "ADMIN", "admin' OR '1'='1", "staff"])
def test_invite_with_a_bad_role_says_so_and_changes_nothing(admin_browser, snapshot, role):
    response = admin_browser.post(URL + "invite/", {"email": "alan@example.com", "role": role},
                                  follow=True)
    assert "Choose a role: admin or member." in text(response)
    nothing_changed(snapshot)


def test_a_member_who_is_not_an_admin_cannot_invite(ada, snapshot):
    response = signed_in(ada).post(URL + "invite/", {"email": "x@example.com", "role": "admin"})
    assert response.status_code == 403
    nothing_changed(snapshot)


def test_an_admin_of_another_organization_cannot_invite_into_this_one(outsider, snapshot):
    response = signed_in(outsider).post(URL + "invite/", {"email": "x@example.com",
                                                          "role": "admin"})
    assert response.status_code == 404
    nothing_changed(snapshot)


def test_anonymous_cannot_invite(client, snapshot):
    assert lands_on_sign_in(client.post(URL + "invite/", {"email": "x@example.com",
                                                          "role": "admin"}))
    nothing_changed(snapshot)


def test_inviting_is_a_post(admin_browser):
    assert admin_browser.get(URL + "invite/?email=x@example.com&role=admin").status_code == 405
    assert not Invitation.objects.exists()


# Resending and revoking invitations -----------------------------------------------------------


@pytest.fixture
def invitation(acme, grace):
    from accounts.invitations import invitation_create

    created = invitation_create(email="alan@example.com", organization=acme, invited_by=grace)
    mail.outbox.clear()
    return created


def test_admin_resends_an_invitation_with_a_new_link(admin_browser, invitation):
    old_hash = invitation.token_hash
    response = admin_browser.post(URL.replace("members/", f"invitations/{invitation.pk}/resend/"),
                                  follow=True)
    assert "We've sent a new invitation to alan@example.com." in text(response)
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash
    assert mail.outbox[0].to == ["alan@example.com"]


def test_admin_revokes_an_invitation(admin_browser, invitation):
    response = admin_browser.post(URL.replace("members/", f"invitations/{invitation.pk}/revoke/"),
                                  follow=True)
    page = text(response)
    assert "The invitation to alan@example.com was withdrawn." in page
    assert "Pending invitations" not in page
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_an_expired_invitation_stays_listed_as_expired_and_can_be_resent(
    admin_browser, invitation
):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    page = text(admin_browser.get(URL))
    assert "Pending invitations" in page and "alan@example.com" in page
    assert "<td data-label=\"Expires\">Expired</td>" in page
    response = admin_browser.post(URL.replace("members/", f"invitations/{invitation.pk}/resend/"),
                                  follow=True)
    assert "We've sent a new invitation to alan@example.com." in text(response)
    assert "<td data-label=\"Expires\">Expired</td>" not in text(response)


def test_resending_a_revoked_invitation_says_why_not(admin_browser, invitation):
    admin_browser.post(URL.replace("members/", f"invitations/{invitation.pk}/revoke/"))
    response = admin_browser.post(URL.replace("members/", f"invitations/{invitation.pk}/resend/"),
                                  follow=True)
    assert "This invitation has been withdrawn." in text(response)
    assert mail.outbox == []


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_another_organizations_invitation_answers_404_and_is_untouched(
    action, make_member, globex, invitation
):
    outsider = make_member("hank@globex.test", organization=globex, role=ADMIN)
    browser = signed_in(outsider)
    for url in [f"/organizations/globex/invitations/{invitation.pk}/{action}/",
                f"/organizations/acme-events/invitations/{invitation.pk}/{action}/"]:
        assert browser.post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert mail.outbox == []


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_a_member_cannot_resend_or_revoke(action, ada, invitation):
    url = f"/organizations/acme-events/invitations/{invitation.pk}/{action}/"
    assert signed_in(ada).post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


@pytest.mark.parametrize("forged", ["0", "999999", "99999999999999999999999"])
def test_a_forged_invitation_id_answers_404(admin_browser, forged):
    assert admin_browser.post(f"/organizations/acme-events/invitations/{forged}/revoke/") \
        .status_code == 404


# Roles ---------------------------------------------------------------------------------------


def role_url(user) -> str:
    return f"{URL}{user.pk}/role/"


def test_admin_makes_a_member_an_admin_and_it_is_recorded(admin_browser, ada, grace, acme):
    response = admin_browser.post(role_url(ada), {"role": "admin"}, follow=True)
    assert "Ada Lovelace is now an admin." in text(response)
    assert Membership.objects.get(user=ada).role == ADMIN
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ROLE_CHANGED)
    assert (event.actor, event.subject, event.organization) == (grace, ada, acme)
    assert event.detail["previous_role"] == "member" and event.detail["role"] == "admin"


def test_the_last_admin_cannot_step_down(admin_browser, grace, snapshot):
    response = admin_browser.post(role_url(grace), {"role": "member"}, follow=True)
    assert "Acme Events must keep at least one admin." in text(response)
    nothing_changed(snapshot)


def test_an_admin_may_step_down_when_another_admin_remains(admin_browser, grace, make_member,
                                                          acme):
    make_member("alan@example.com", organization=acme, role=ADMIN)
    admin_browser.post(role_url(grace), {"role": "member"})
    assert Membership.objects.get(user=grace).role == MEMBER
    assert admin_browser.post(role_url(grace), {"role": "admin"}).status_code == 403


@pytest.mark.parametrize("role", ["", "owner", "Admin", "<b>admin</b>", "admin\x00"])
def test_a_bad_role_says_so_and_changes_nothing(admin_browser, ada, snapshot, role):
    response = admin_browser.post(role_url(ada), {"role": role}, follow=True)
    assert "Choose a role: admin or member." in text(response)
    nothing_changed(snapshot)


def test_a_member_cannot_change_roles(ada, grace, snapshot):
    assert signed_in(ada).post(role_url(ada), {"role": "admin"}).status_code == 403
    assert signed_in(ada).post(role_url(grace), {"role": "member"}).status_code == 403
    nothing_changed(snapshot)


@pytest.mark.parametrize("forged", ["0", "424242", "99999999999999999999999"])
def test_a_forged_member_id_answers_404(admin_browser, snapshot, forged):
    for action in ["role/", "remove/", "phone/remove/"]:
        assert admin_browser.post(f"{URL}{forged}/{action}", {"role": "admin"}).status_code == 404
        assert admin_browser.get(f"{URL}{forged}/{action}").status_code in {404, 405}
    nothing_changed(snapshot)


def test_the_id_of_someone_in_another_organization_answers_404(
    admin_browser, outsider, snapshot
):
    for action in ["role/", "remove/", "phone/remove/"]:
        response = admin_browser.post(f"{URL}{outsider.pk}/{action}", {"role": "member"})
        assert response.status_code == 404
    nothing_changed(snapshot)


# Removing a member ---------------------------------------------------------------------------


def test_removing_a_member_asks_first_then_removes_and_records_it(admin_browser, ada, grace,
                                                                  acme):
    confirm = admin_browser.get(f"{URL}{ada.pk}/remove/")
    assert "Remove Ada Lovelace from Acme Events?" in text(confirm)
    assert Membership.objects.filter(user=ada).exists()

    response = admin_browser.post(f"{URL}{ada.pk}/remove/", follow=True)
    assert "Ada Lovelace was removed from Acme Events." in text(response)
    assert not Membership.objects.filter(user=ada).exists()
    assert User.objects.filter(pk=ada.pk).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MEMBER_REMOVED)
    assert (event.actor, event.subject, event.organization) == (grace, ada, acme)
    # Their own organization page is now closed to them.
    assert signed_in(ada).get(URL).status_code == 404


def test_the_last_admin_cannot_leave(admin_browser, grace, snapshot):
    response = admin_browser.post(f"{URL}{grace.pk}/remove/", follow=True)
    assert "Acme Events must keep at least one admin." in text(response)
    nothing_changed(snapshot)


def test_an_admin_may_leave_when_another_admin_remains(admin_browser, grace, make_member, acme):
    make_member("alan@example.com", organization=acme, role=ADMIN)
    response = admin_browser.post(f"{URL}{grace.pk}/remove/")
    assert response["Location"] == "/"
    assert not Membership.objects.filter(user=grace).exists()


def test_a_member_cannot_remove_anyone(ada, grace, snapshot):
    assert signed_in(ada).post(f"{URL}{grace.pk}/remove/").status_code == 403
    assert signed_in(ada).get(f"{URL}{grace.pk}/remove/").status_code == 403
    nothing_changed(snapshot)


def test_anonymous_cannot_remove_anyone(client, ada, snapshot):
    assert lands_on_sign_in(client.post(f"{URL}{ada.pk}/remove/"))
    nothing_changed(snapshot)
