"""Recovery codes: made in personal settings and shown once, used once at sign-in in place
of the text message or the app, counted against the same back-off as wrong SMS codes,
emailed about, listed in Activity and Django admin (never the codes), and removed by an
admin's reset."""

import re

import pytest
from django.core import mail
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import SecurityEvent
from accounts.signin import METHOD_KEY
from core.limits import limit
from mfa import sms
from mfa.models import RecoveryCode, RecoveryCodeDevice, SmsDevice
from mfa.recovery import recovery_codes_create
from organizations.models import Membership
from tests.helpers import page, signed_in

SETTINGS = "/settings/"
CREATE = "/settings/recovery-codes/create/"
SHOW = "/settings/recovery-codes/"
DOWNLOAD = "/settings/recovery-codes/download/"
CODE_PAGE = "/signin/code/"
APP_PAGE = "/signin/app/"
RECOVERY = "/signin/recovery/"
Kind = SecurityEvent.Kind
CODE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@pytest.fixture
def ada(enrolled_member):
    """Ada, with the phone +41 79 123 45 67."""
    return enrolled_member()


def codes_for(user) -> list[str]:
    return recovery_codes_create(user=user, ip=None, user_agent="")


def use(client, code):
    return client.post(RECOVERY, {"code": code})


# Creating them in personal settings ---------------------------------------------------------


def test_settings_offer_to_create_recovery_codes(ada):
    text = page(signed_in(ada).get(SETTINGS))
    assert '<h2 id="recovery-heading">Recovery codes</h2>' in text
    assert f'action="{CREATE}"' in text
    assert "<button type=\"submit\">Create recovery codes</button>" in text


def test_creating_makes_ten_codes_shown_once(ada, django_capture_on_commit_callbacks):
    client = signed_in(ada, password_just_given=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(CREATE)["Location"] == SHOW
    response = client.get(SHOW)
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]
    codes = CODE.findall(page(response))
    assert len(codes) == len(set(codes)) == 10
    assert "This is the only time they are shown." in page(response)
    assert ">Download as text</button>" in page(response)
    assert "Copy codes</button>" in page(response)
    # Never again: the page now goes back to settings, which say how many are left.
    assert client.get(SHOW)["Location"] == SETTINGS
    assert "You have <strong>10 unused recovery codes</strong>" in page(client.get(SETTINGS))
    assert ">Create new recovery codes</button>" in page(client.get(SETTINGS))
    event = SecurityEvent.objects.get(kind=Kind.RECOVERY_CODES_CREATED)
    assert (event.actor, event.subject, event.detail["replaced"]) == (ada, ada, False)
    [email] = mail.outbox
    assert email.subject == "Recovery codes were created for your Backstage account"


def test_only_keyed_hashes_are_stored(ada):
    codes = codes_for(ada)
    stored = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert all(plain not in digest and code not in digest for digest in stored)
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in stored)


def test_creating_new_codes_replaces_them_all(ada, sign_in, client, clock):
    old = codes_for(ada)
    admin_client = signed_in(ada, password_just_given=True)
    admin_client.post(CREATE)
    new = CODE.findall(page(admin_client.get(SHOW)))
    assert not set(old) & set(new)
    assert RecoveryCode.objects.count() == 10
    newest = SecurityEvent.objects.filter(kind=Kind.RECOVERY_CODES_CREATED).first()
    assert newest.detail["replaced"] is True

    sign_in()
    response = use(client, old[0])
    assert "That recovery code isn't right, or it was already used." in page(response)
    clock.advance(seconds=2)  # the back-off after the wrong code
    assert use(client, new[0])["Location"] == "/"


def test_download_is_a_text_file_of_the_codes(ada):
    client = signed_in(ada, password_just_given=True)
    codes = codes_for(ada)
    response = client.post(DOWNLOAD, {"code": [*codes, "<script>", "x" * 500]})
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="backstage-recovery-codes.txt"'
    )
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "Backstage recovery codes for ada@example.com" in body
    assert all(f"\n{code}\n" in body for code in codes)
    assert "<script>" not in body and "xxxxx" not in body


def test_download_is_a_post_form_on_the_codes_page(ada):
    client = signed_in(ada, password_just_given=True)
    client.post(CREATE)
    text = page(client.get(SHOW))
    assert f'<form method="post" action="{DOWNLOAD}">' in text
    assert text.count('<input type="hidden" name="code" value="') == 10
    assert client.get(DOWNLOAD).status_code == 405


def test_recovery_codes_need_a_phone_first(make_member):
    grace = make_member("grace@example.com")
    client = signed_in(grace, password_just_given=True)
    assert "Add a phone first: recovery codes come on top of it." in page(client.get(SETTINGS))
    response = client.post(CREATE, follow=True)
    assert "Add a phone first: recovery codes come on top of it." in page(response)
    assert not RecoveryCodeDevice.objects.exists()


def test_settings_warn_when_fewer_than_three_codes_remain(ada, sign_in, client):
    codes = codes_for(ada)
    settings_page = signed_in(ada)
    for used, code in enumerate(codes[:8], start=1):
        client.post("/signout/")
        sign_in()
        assert use(client, code)["Location"] == "/"
        text = page(settings_page.get(SETTINGS))
        if 10 - used < 3:
            assert f"Only {10 - used} recovery code" in text
        else:
            assert "Only " not in text
    assert "Only 2 recovery codes left." in page(settings_page.get(SETTINGS))


def test_anonymous_person_cannot_create_or_download_codes(client, db):
    assert client.post(CREATE)["Location"] == f"/signin/?next={CREATE}"
    assert client.post(DOWNLOAD)["Location"] == f"/signin/?next={DOWNLOAD}"
    assert client.get(SHOW)["Location"] == f"/signin/?next={SHOW}"


def test_half_signed_in_person_cannot_create_codes(ada, sign_in, client):
    sign_in()
    assert client.post(CREATE)["Location"] == f"/signin/?next={CREATE}"
    assert not RecoveryCodeDevice.objects.exists()


# Using one at sign-in -----------------------------------------------------------------------


def test_code_page_links_to_recovery_codes_only_when_there_are_some(ada, sign_in, client):
    sign_in()
    assert "Use a recovery code" not in page(client.get(CODE_PAGE))
    assert client.get(RECOVERY)["Location"] == CODE_PAGE
    codes_for(ada)
    assert f'<a href="{RECOVERY}">Use a recovery code</a>' in page(client.get(CODE_PAGE))


def test_app_page_links_to_recovery_codes(ada, add_authenticator, sign_in, client):
    add_authenticator(ada)
    codes_for(ada)
    assert sign_in()["Location"] == APP_PAGE
    assert f'<a href="{RECOVERY}">Use a recovery code</a>' in page(client.get(APP_PAGE))
    assert "Use your authenticator app instead" in page(client.get(RECOVERY))


def test_recovery_page_asks_for_a_recovery_code(ada, sign_in, client):
    codes_for(ada)
    sign_in()
    text = page(client.get(RECOVERY))
    assert "<h1>Use a recovery code</h1>" in text
    assert '<label for="id_code">Recovery code:</label>' in text
    assert '<button type="submit">Continue</button>' in text
    assert "Use a code by text message instead" in text


def test_recovery_page_needs_a_password_first(ada, client):
    codes_for(ada)
    assert client.get(RECOVERY)["Location"] == "/signin/"


def test_right_code_signs_in_once_and_is_gone(
    ada, sign_in, client, django_capture_on_commit_callbacks
):
    code = codes_for(ada)[3]
    mail.outbox.clear()
    sign_in()
    before = client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        response = use(client, code)
    assert response["Location"] == "/"
    assert client.session.session_key != before
    assert client.session[METHOD_KEY] == "recovery"
    device = RecoveryCodeDevice.objects.get(user=ada)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert "You used a recovery code: 9 are left." in page(client.get("/"))
    assert RecoveryCode.objects.count() == 9
    assert device.last_used_at is not None

    used = SecurityEvent.objects.get(kind=Kind.RECOVERY_CODE_USED)
    assert (used.subject, used.detail) == (ada, {"codes_left": 9})
    signin = SecurityEvent.objects.get(kind=Kind.SIGNIN_SUCCEEDED)
    assert signin.detail["method"] == "recovery"
    [email] = mail.outbox
    assert email.subject == "A recovery code was used to sign in to your Backstage account"
    assert "You have 9 recovery codes left." in email.body
    assert code not in email.body

    # Used: the same code does not work a second time.
    client.post("/signout/")
    sign_in()
    response = use(client, code)
    assert "That recovery code isn't right, or it was already used." in page(response)
    assert "_auth_user_id" not in client.session


def test_code_is_accepted_in_any_case_with_or_without_the_dash(ada, sign_in, client):
    codes = codes_for(ada)
    for typed in (codes[0].upper(), codes[1].replace("-", ""), f"  {codes[2][:5]} {codes[2][6:]} "):
        client.post("/signout/")
        sign_in()
        assert use(client, typed)["Location"] == "/"


def test_code_of_another_member_is_refused(ada, enrolled_member, sign_in, client):
    grace = enrolled_member("grace@example.com", number="+41791110000")
    codes_for(ada)
    grace_code = codes_for(grace)[0]
    sign_in()
    assert "isn't right" in page(use(client, grace_code))
    assert RecoveryCode.objects.filter(device__user=grace).count() == 10


def test_a_text_that_cannot_be_a_code_is_refused_by_the_form(ada, sign_in, client):
    codes_for(ada)
    sign_in()
    assert "Enter one of your recovery codes." in page(use(client, ""))
    text = page(use(client, "123456"))
    assert "A recovery code is 10 letters and digits, like abcde-23456." in text


def test_last_code_tells_them_to_create_new_ones(
    ada, sign_in, client, django_capture_on_commit_callbacks
):
    codes = codes_for(ada)
    RecoveryCode.objects.filter(pk__in=RecoveryCode.objects.order_by("pk")[1:].values("pk")) \
        .delete()
    mail.outbox.clear()
    sign_in()
    for code in codes:
        with django_capture_on_commit_callbacks(execute=True):
            response = use(client, code)
        if response.status_code == 302:
            break
    assert "You used your last recovery code." in page(client.get("/"))
    [email] = mail.outbox
    assert "You have no recovery codes left. Create new recovery codes" in email.body


def test_staff_reach_admin_with_password_and_recovery_code(enrolled_member, sign_in, client):
    staff = enrolled_member(is_staff=True, is_superuser=True)
    code = codes_for(staff)[0]
    sign_in(next="/admin/")
    assert use(client, code)["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_does_not_remember_the_browser(ada, sign_in, client):
    code = codes_for(ada)[0]
    sign_in()
    client.post(RECOVERY, {"code": code, "remember": "on"})
    client.post("/signout/")
    assert sign_in()["Location"] == CODE_PAGE


# One limit on wrong codes -------------------------------------------------------------------


def test_wrong_recovery_codes_count_towards_the_sms_code_limit(
    ada, sign_in, client, last_code, clock
):
    codes_for(ada)
    sign_in()
    assert "isn't right" in page(use(client, "aaaaa-aaaaa"))
    phone = SmsDevice.objects.get(user=ada)
    assert phone.throttling_failure_count == 1
    # They count towards the member's cap on wrong codes (SMS_CODE_FAILURES_PER_USER): once
    # a wrong recovery code reaches it, even the right SMS code is refused.
    cap = limit("SMS_CODE_FAILURES_PER_USER").max
    SmsDevice.objects.filter(pk=phone.pk).update(throttling_failure_count=cap - 1)
    clock.advance(seconds=2)
    use(client, "aaaaa-aaaaa")
    assert SmsDevice.objects.get(user=ada).throttling_failure_count == cap
    response = client.post(CODE_PAGE, {"code": last_code()})
    assert "Too many wrong codes were entered for your account" in page(response)


def test_wrong_sms_codes_hold_back_recovery_codes_at_the_members_cap(
    ada, sign_in, client, last_code, clock
):
    code = codes_for(ada)[0]
    sign_in()
    cap = limit("SMS_CODE_FAILURES_PER_USER").max
    SmsDevice.objects.filter(user=ada).update(
        throttling_failure_count=cap, throttling_failure_timestamp=clock.now
    )
    response = use(client, code)
    assert "Too many wrong codes were entered for your account" in page(response)
    assert RecoveryCode.objects.count() == 10
    clock.advance(seconds=limit("SMS_CODE_FAILURES_PER_USER").window.total_seconds() + 1)
    sign_in()  # the pending sign-in has expired meanwhile
    assert use(client, code)["Location"] == "/"


def test_wrong_recovery_codes_are_counted_and_recorded(ada, sign_in, client, clock):
    # Recovery codes are long and random: the member's cap bounds the guesses, with no
    # back-off of their own that an attacker's guesses could hold the member back with.
    codes_for(ada)
    sign_in()
    for _ in range(3):
        assert "isn't right" in page(use(client, "aaaaa-aaaaa"))
    assert SmsDevice.objects.get(user=ada).throttling_failure_count == 3
    failed = SecurityEvent.objects.filter(kind=Kind.CODE_FAILED, subject=ada)
    assert {event.detail["factor"] for event in failed} == {"recovery"}


# Activity, Django admin, and an admin's reset -----------------------------------------------


def test_activity_shows_recovery_code_events(enrolled_member, sign_in, client):
    grace = enrolled_member("grace@example.com", role=Membership.Role.ADMIN, number="+41791110000")
    ada = enrolled_member()
    code = codes_for(ada)[0]
    sign_in()
    use(client, code)
    text = page(signed_in(grace).get("/organizations/acme-events/activity/"))
    assert "<td data-label=\"What\">Recovery codes created</td>" in text
    assert "<td data-label=\"What\">Recovery code used</td>" in text
    assert "9 recovery codes left" in text
    assert "with the password and a recovery code" in text


def test_django_admin_shows_how_many_codes_are_left_never_the_codes(make_user, ada):
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    codes = codes_for(ada)
    RecoveryCode.objects.filter(pk=RecoveryCode.objects.order_by("pk").first().pk).delete()
    admin = signed_in(staff, method="totp")
    listing = page(admin.get("/admin/mfa/recoverycodedevice/"))
    assert "Codes left" in listing
    assert '<td class="field-codes_left">9</td>' in listing
    device = RecoveryCodeDevice.objects.get(user=ada)
    detail = page(admin.get(f"/admin/mfa/recoverycodedevice/{device.pk}/change/"))
    user_page = page(admin.get(f"/admin/accounts/user/{ada.pk}/change/"))
    assert "Recovery codes left" in user_page
    for text in (listing, detail, user_page):
        assert not any(code in text or code.replace("-", "") in text for code in codes)
        assert not any(digest in text for digest in RecoveryCode.objects.values_list(
            "digest", flat=True))
    assert admin.get("/admin/mfa/recoverycode/").status_code == 404
    assert admin.get("/admin/otp_static/staticdevice/").status_code == 404


def test_remove_user_phone_removes_every_second_factor_and_says_so(
    enrolled_member, add_authenticator, sign_in, client, django_capture_on_commit_callbacks
):
    grace = enrolled_member("grace@example.com", role=Membership.Role.ADMIN,
                            full_name="Grace Hopper", number="+41791110000")
    ada = enrolled_member()
    add_authenticator(ada)
    codes = codes_for(ada)
    mail.outbox.clear()
    admin = signed_in(grace)
    url = f"/organizations/acme-events/members/{ada.pk}/phone/remove/"
    confirm = page(admin.get(url))
    assert "Every second factor of theirs is removed: their phone, and their authenticator " \
        "app and recovery codes if they set them up" in confirm

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(url)

    assert not SmsDevice.objects.filter(user=ada).exists()
    assert not RecoveryCodeDevice.objects.filter(user=ada).exists()
    assert not RecoveryCode.objects.exists()
    event = SecurityEvent.objects.get(kind=Kind.PHONE_REMOVED)
    assert event.detail["authenticator_removed"] is True
    assert event.detail["recovery_codes_removed"] is True
    [email] = mail.outbox
    assert email.subject == (
        "The phone, authenticator app and recovery codes of your Backstage account were removed"
    )
    assert "removed the phone\nnumber, the authenticator app and the recovery codes" in email.body
    # The next sign-in asks for a new number; the old codes are of no use.
    assert sign_in()["Location"] == "/signin/phone/"
    assert client.get(RECOVERY)["Location"] == CODE_PAGE
    assert "Recovery code" not in page(client.post(RECOVERY, {"code": codes[0]}, follow=True))


def test_remove_user_phone_from_django_admin_removes_the_codes(make_user, ada):
    staff = make_user("support@backstage.test", is_staff=True, is_superuser=True)
    codes_for(ada)
    admin = signed_in(staff, method="totp")
    confirm = page(admin.post("/admin/mfa/recoverycodedevice/", {
        "action": "remove_user_phone",
        "_selected_action": [RecoveryCodeDevice.objects.get().pk],
    }))
    assert "Every second factor of theirs is removed" in confirm
    admin.post("/admin/mfa/recoverycodedevice/", {
        "action": "remove_user_phone",
        "_selected_action": [RecoveryCodeDevice.objects.get().pk], "post": "yes",
    })
    assert not RecoveryCodeDevice.objects.exists()
    assert not SmsDevice.objects.exists()
    assert sms.outbox == []


def test_creating_codes_asks_for_the_password_again_when_it_is_not_fresh(ada):
    client = signed_in(ada)
    response = client.post(CREATE)
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/confirm-password/")
    assert not RecoveryCode.objects.filter(device__user=ada).exists()
