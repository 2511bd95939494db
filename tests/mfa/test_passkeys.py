"""Passkeys (issue 11): adding and removing them in personal settings, the passkey step after
the password, and "Sign in with a passkey" without one. Every ceremony is answered by a
software authenticator (tests.webauthn_authenticator) that signs real WebAuthn responses."""

import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent, User
from accounts.signin import METHOD_KEY
from mfa import sms
from mfa.factors import strong_factor_set_up
from mfa.models import PasskeyDevice, RecoveryCode
from mfa.passkeys import CHALLENGE_KEY
from mfa.recovery import recovery_codes_create
from organizations.members import event_summary
from organizations.models import EmailDomain, EnterpriseLogin, Membership
from tests.accounts.test_personal_settings import fully_signed_in
from tests.helpers import page, page_html, signed_in
from tests.webauthn_authenticator import SoftAuthenticator

Kind = SecurityEvent.Kind
CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SETTINGS = "/settings/"
ADD_OPTIONS = "/settings/passkeys/options/"
ADD = "/settings/passkeys/add/"
STEP = "/signin/passkey/"
STEP_OPTIONS = "/signin/passkey/options/"
PASSWORDLESS = "/signin/with-passkey/"
PASSWORDLESS_OPTIONS = "/signin/with-passkey/options/"
FALLBACK = "/settings/phone/fallback/"


def options(client, url) -> dict:
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def add_passkey(client, authenticator, **answer) -> PasskeyDevice:
    """Settings' Add a passkey: options, the browser's dialog, and the answer posted."""
    credential = authenticator.create(options(client, ADD_OPTIONS), **answer)
    response = client.post(ADD, {"credential": credential}, HTTP_USER_AGENT=CHROME_ON_MAC)
    device = PasskeyDevice.objects.get(credential_id=authenticator.credentials[-1].id_b64)
    assert response["Location"] == f"/settings/passkeys/{device.pk}/name/"
    return device


@pytest.fixture
def authenticator():
    return SoftAuthenticator()


@pytest.fixture
def ada(enrolled_member, sign_in, client, last_code):
    """Ada, with a phone, fully signed in on `client`."""
    user = enrolled_member()
    fully_signed_in(client, sign_in, last_code)
    sms.outbox.clear()
    return user


@pytest.fixture
def ada_with_passkey(ada, client, authenticator, django_capture_on_commit_callbacks):
    """Ada with a passkey on `authenticator`, signed out again."""
    with django_capture_on_commit_callbacks(execute=True):
        add_passkey(client, authenticator)
    client.post("/signout/")
    mail.outbox.clear()
    return ada


# Adding, naming, removing ----------------------------------------------------------------


def test_settings_offer_add_a_passkey_only_once_javascript_finds_webauthn(ada, client):
    html = page_html(client.get(SETTINGS))
    assert "<h2 id=\"passkeys-heading\">Passkeys</h2>" in html
    assert "Add a passkey" in html
    # Rendered hidden; static/js/passkeys.js shows it after its feature check.
    form = html[html.index('data-passkey="create"') : html.index(">Add a passkey</button>")]
    assert "data-passkey-show hidden" in form
    assert "js/passkeys.js" in html
    assert "This browser can't add passkeys." in html


def test_adding_a_passkey_names_it_for_the_browser_and_tells_the_member(
    ada, client, authenticator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        device = add_passkey(client, authenticator)
    assert device.user == ada
    assert device.name == "Chrome on macOS"
    assert device.transports == ["internal", "hybrid"]
    name_page = page(client.get(f"/settings/passkeys/{device.pk}/name/"))
    assert "Passkey added. Signing in now asks for it first." in name_page
    assert 'value="Chrome on macOS"' in name_page
    [event] = SecurityEvent.objects.filter(kind=Kind.PASSKEY_ADDED)
    assert (event.actor, event.subject, event.detail["passkey"]) == (ada, ada, "Chrome on macOS")
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == "A passkey was added to your Backstage account"
    assert '"Chrome on macOS"' in email.body


def test_the_name_page_renames_and_the_list_shows_name_added_and_last_used(
    ada, client, authenticator
):
    device = add_passkey(client, authenticator)
    response = client.post(f"/settings/passkeys/{device.pk}/name/", {"name": "Work laptop"})
    assert response["Location"] == SETTINGS
    settings_page = page(client.get(SETTINGS))
    assert "Work laptop" in settings_page
    assert "Never" in settings_page  # not used yet
    assert 'Remove<span class="visually-hidden"> Work laptop</span>' in settings_page


def test_an_empty_name_is_refused(ada, client, authenticator):
    device = add_passkey(client, authenticator)
    response = client.post(f"/settings/passkeys/{device.pk}/name/", {"name": ""})
    assert "Enter a name for this passkey." in page(response)


def test_registration_options_exclude_the_members_passkeys_and_ask_for_a_discoverable_one(
    ada, client, authenticator
):
    first = add_passkey(client, authenticator)
    offered = options(client, ADD_OPTIONS)
    assert offered["rp"] == {"id": "testserver", "name": "Backstage"}
    assert offered["user"]["name"] == "ada@example.com"
    assert offered["user"]["id"] == first.user_handle  # never the email or the pk
    assert offered["authenticatorSelection"]["residentKey"] == "required"
    assert [item["id"] for item in offered["excludeCredentials"]] == [first.credential_id]


def test_a_registration_answer_is_accepted_once(ada, client, authenticator):
    credential = authenticator.create(options(client, ADD_OPTIONS))
    client.post(ADD, {"credential": credential})
    response = client.post(ADD, {"credential": credential}, follow=True)
    assert "This passkey request has expired or was already used. Try again." in page(response)
    assert PasskeyDevice.objects.count() == 1


@pytest.mark.parametrize(
    "answer", [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}]
)
def test_registration_for_another_origin_or_rp_id_is_refused(ada, client, authenticator, answer):
    credential = authenticator.create(options(client, ADD_OPTIONS), **answer)
    response = client.post(ADD, {"credential": credential}, follow=True)
    assert "Your passkey couldn't be checked, so it wasn't accepted. Try again." in page(response)
    assert not PasskeyDevice.objects.exists()


def test_a_made_up_answer_is_refused_without_an_error_page(ada, client):
    options(client, ADD_OPTIONS)
    for junk in ["not json", "[]", '{"id": "x"}', '{"id": "x", "response": {}}']:
        response = client.post(ADD, {"credential": junk}, follow=True)
        assert response.status_code == 200
    assert not PasskeyDevice.objects.exists()


def test_adding_needs_a_signed_in_session(enrolled_member, sign_in, client):
    enrolled_member()
    sign_in()  # password only: half-way
    assert client.post(ADD_OPTIONS)["Location"].startswith("/signin/")
    assert client.post(ADD, {"credential": "{}"})["Location"].startswith("/signin/")


def test_removing_a_passkey_records_and_emails(
    ada, client, authenticator, django_capture_on_commit_callbacks
):
    device = add_passkey(client, authenticator)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/settings/passkeys/{device.pk}/remove/", follow=True)
    assert "Passkey removed." in page(response)
    assert not PasskeyDevice.objects.exists()
    assert SecurityEvent.objects.filter(kind=Kind.PASSKEY_REMOVED, subject=ada).exists()
    [email] = mail.outbox
    assert email.subject == "A passkey was removed from your Backstage account"


def test_a_stale_session_adding_a_passkey_is_sent_to_confirm_your_password(ada, authenticator):
    stale = signed_in(ada)  # signed in, but the password was not given in the last minutes
    for url in (ADD_OPTIONS, ADD):
        response = stale.post(
            url, {"credential": "{}"}, HTTP_REFERER="http://testserver/settings/"
        )
        assert response["Location"] == (
            "/settings/confirm-password/?next=http%3A%2F%2Ftestserver%2Fsettings%2F"
        )
    assert CHALLENGE_KEY not in stale.session  # no ceremony began
    assert not PasskeyDevice.objects.exists()


def test_renaming_or_removing_a_passkey_asks_for_the_password_again_when_it_is_stale(
    ada, client, authenticator, clock
):
    device = add_passkey(client, authenticator)
    clock.advance(minutes=10)
    for response in (
        client.get(f"/settings/passkeys/{device.pk}/name/"),
        client.post(f"/settings/passkeys/{device.pk}/name/", {"name": "Mine now"}),
        client.post(f"/settings/passkeys/{device.pk}/remove/"),
    ):
        assert response["Location"].startswith("/settings/confirm-password/?next=")
    device.refresh_from_db()
    assert device.name == "Chrome on macOS"


def test_another_members_passkey_cannot_be_renamed_or_removed(
    ada, client, make_member, authenticator
):
    grace = make_member(email="grace@example.com")
    theirs = add_passkey(client, authenticator)
    PasskeyDevice.objects.filter(pk=theirs.pk).update(user=grace)
    assert client.get(f"/settings/passkeys/{theirs.pk}/name/").status_code == 404
    assert client.post(f"/settings/passkeys/{theirs.pk}/remove/").status_code == 404
    assert PasskeyDevice.objects.filter(pk=theirs.pk, user=grace).exists()


# The passkey after the password -----------------------------------------------------------


def test_a_member_with_a_passkey_is_asked_for_it_first(ada_with_passkey, sign_in, client):
    assert sign_in()["Location"] == STEP
    assert sms.outbox == []  # no code unless they choose one
    html = page_html(client.get(STEP))
    assert ">Use your passkey</button>" in html
    assert "Send a code by text message instead" in html
    assert "This browser can't use passkeys." in html  # hidden by passkeys.js where it can


def test_password_and_passkey_sign_in(ada_with_passkey, sign_in, client, authenticator):
    sign_in()
    offered = options(client, STEP_OPTIONS)
    assert offered["rpId"] == "testserver"
    assert [item["id"] for item in offered["allowCredentials"]] == [
        authenticator.credentials[0].id_b64
    ]
    response = client.post(STEP, {"credential": authenticator.get(offered)})
    assert response["Location"] == "/"
    assert client.session[METHOD_KEY] == "passkey"
    device = PasskeyDevice.objects.get()
    assert device.sign_count == 1
    assert device.last_used_at is not None
    event = SecurityEvent.objects.filter(kind=Kind.SIGNIN_SUCCEEDED).first()
    assert event.detail["method"] == "passkey"


def test_remember_me_after_a_passkey_remembers_the_browser(
    ada_with_passkey, sign_in, client, authenticator
):
    sign_in()
    answer = authenticator.get(options(client, STEP_OPTIONS))
    client.post(STEP, {"credential": answer, "remember": "on"})
    client.post("/signout/")
    assert sign_in()["Location"] == "/"


def test_a_passkey_sign_in_opens_django_admin(
    ada_with_passkey, sign_in, client, authenticator
):
    ada_with_passkey.is_staff = True
    ada_with_passkey.save()
    sign_in()
    client.post(STEP, {"credential": authenticator.get(options(client, STEP_OPTIONS))})
    assert client.get("/admin/").status_code == 200


def test_the_text_message_fallback_sends_a_code(ada_with_passkey, sign_in, client):
    sign_in()
    assert client.post("/signin/app/sms/")["Location"] == "/signin/code/"
    assert len(sms.outbox) == 1
    assert "Use your passkey instead" in page(client.get("/signin/code/"))


def test_the_app_is_offered_beside_the_passkey(
    ada_with_passkey, sign_in, client, add_authenticator
):
    add_authenticator(ada_with_passkey)
    assert sign_in()["Location"] == STEP
    assert "Use your authenticator app instead" in page(client.get(STEP))
    assert "Use your passkey instead" in page(client.get("/signin/app/"))


def test_recovery_codes_are_offered_beside_the_passkey(ada_with_passkey, sign_in, client):
    sign_in()
    assert "Use a recovery code" not in page(client.get(STEP))
    recovery_codes_create(user=ada_with_passkey, ip=None, user_agent="")
    assert "Use a recovery code" in page(client.get(STEP))
    assert "Use your passkey instead" in page(client.get("/signin/recovery/"))


def test_a_passkey_is_a_strong_factor(ada, client, authenticator):
    assert strong_factor_set_up(ada) is False
    add_passkey(client, authenticator)
    assert strong_factor_set_up(ada) is True


def test_with_the_text_message_fallback_off_every_way_to_sms_leads_to_the_passkey(
    ada, client, authenticator, sign_in
):
    """A member whose only strong factor is a passkey, with text messages turned off: the
    SMS and app steps send them to the passkey step, never round in a loop."""
    add_passkey(client, authenticator)
    assert client.post(FALLBACK, {"sms_fallback": "off"})["Location"] == SETTINGS
    client.post("/signout/")
    assert sign_in()["Location"] == STEP
    assert "Send a code by text message instead" not in page(client.get(STEP))
    for response in (
        client.post("/signin/app/sms/"),
        client.get("/signin/code/"),
        client.post("/signin/code/resend/"),
        client.post("/signin/code/", {"code": "123456"}),
    ):
        assert response["Location"] == STEP
    # The app step (no app) hands over to the code step, which hands over to the passkey.
    response = client.get("/signin/app/", follow=True)
    assert response.redirect_chain[-1][0] == STEP
    assert "You turned off codes by text message for signing in." in page(response)
    assert sms.outbox == []
    response = client.post(STEP, {"credential": authenticator.get(options(client, STEP_OPTIONS))})
    assert response["Location"] == "/"


def test_an_assertion_is_accepted_once(ada_with_passkey, sign_in, client, authenticator):
    sign_in()
    answer = authenticator.get(options(client, STEP_OPTIONS))
    client.post(STEP, {"credential": answer})
    client.post("/signout/")
    sign_in()
    options(client, STEP_OPTIONS)  # a new challenge: the old answer was for the old one
    response = client.post(STEP, {"credential": answer})
    assert "Your passkey couldn't be checked, so it wasn't accepted. Try again." in page(response)
    assert METHOD_KEY not in client.session


def test_a_challenge_answers_once(ada_with_passkey, sign_in, client, authenticator):
    sign_in()
    offered = options(client, STEP_OPTIONS)
    wrong = authenticator.get(offered, origin="https://evil.example")
    client.post(STEP, {"credential": wrong})
    # The same challenge, now rightly signed: it was spent on the wrong answer.
    response = client.post(STEP, {"credential": authenticator.get(offered)})
    assert "This passkey request has expired or was already used. Try again." in page(response)
    assert METHOD_KEY not in client.session


def test_a_challenge_expires(ada_with_passkey, sign_in, client, authenticator, clock):
    sign_in()
    offered = options(client, STEP_OPTIONS)
    clock.advance(minutes=6)
    response = client.post(STEP, {"credential": authenticator.get(offered)})
    assert "This passkey request has expired or was already used. Try again." in page(response)


def test_another_members_passkey_is_refused_after_the_password(
    ada_with_passkey, enrolled_member, sign_in, client, last_code
):
    grace = enrolled_member(email="grace@example.com", number="+41791234568")
    graces = SoftAuthenticator()
    grace_client = Client()
    fully_signed_in(grace_client, sign_in, last_code, email="grace@example.com")
    add_passkey(grace_client, graces)
    # Ada's password, then Grace's passkey signing Ada's challenge.
    sign_in()
    answer = graces.get(options(client, STEP_OPTIONS), credential=graces.credentials[0])
    response = client.post(STEP, {"credential": answer})
    assert "This passkey isn't one of the passkeys of your Backstage account." in page(response)
    assert METHOD_KEY not in client.session
    assert grace.pk != ada_with_passkey.pk


@pytest.mark.parametrize(
    "answer", [{"origin": "https://evil.example"}, {"rp_id": "evil.example"},
               {"origin": "http://testserver:8000"}]
)
def test_an_assertion_for_another_origin_or_rp_id_is_refused(
    ada_with_passkey, sign_in, client, authenticator, answer
):
    sign_in()
    response = client.post(
        STEP, {"credential": authenticator.get(options(client, STEP_OPTIONS), **answer)}
    )
    assert "Your passkey couldn't be checked, so it wasn't accepted. Try again." in page(response)
    assert METHOD_KEY not in client.session
    event = SecurityEvent.objects.filter(kind=Kind.PASSKEY_FAILED).get()
    assert event.detail["reason"] == "invalid"


def test_a_sign_counter_that_does_not_go_up_is_refused(
    ada_with_passkey, sign_in, client, authenticator
):
    sign_in()
    client.post(STEP, {"credential": authenticator.get(options(client, STEP_OPTIONS),
                                                       sign_count=5)})
    client.post("/signout/")
    sign_in()
    # A copy of the key that signs with a counter already seen: a cloned passkey.
    answer = authenticator.get(options(client, STEP_OPTIONS), sign_count=5)
    response = client.post(STEP, {"credential": answer})
    assert "Your passkey couldn't be checked" in page(response)
    assert METHOD_KEY not in client.session
    assert PasskeyDevice.objects.get().sign_count == 5
    event = SecurityEvent.objects.filter(kind=Kind.PASSKEY_FAILED).get()
    assert event.detail["reason"] == "sign_count"


def test_passkeys_that_keep_no_counter_are_accepted(ada, client, sign_in):
    synced = SoftAuthenticator(counting=False)  # synced passkeys always say 0
    add_passkey(client, synced)
    for _ in range(2):
        client.post("/signout/")
        sign_in()
        response = client.post(STEP, {"credential": synced.get(options(client, STEP_OPTIONS))})
        assert response["Location"] == "/"


def test_a_tampered_signature_is_refused(ada_with_passkey, sign_in, client, authenticator):
    sign_in()
    answer = json.loads(authenticator.get(options(client, STEP_OPTIONS)))
    answer["response"]["signature"] = answer["response"]["signature"][:-4] + "AAAA"
    response = client.post(STEP, {"credential": json.dumps(answer)})
    assert "Your passkey couldn't be checked" in page(response)


def test_the_step_needs_the_password_first(ada_with_passkey, client):
    assert client.get(STEP)["Location"] == "/signin/"
    assert client.post(STEP_OPTIONS)["Location"] == "/signin/"


# Sign in with a passkey, no password ------------------------------------------------------


def test_the_sign_in_page_offers_passkeys(db, client):
    html = page_html(client.get("/signin/"))
    assert 'autocomplete="username webauthn"' in html
    form = html[html.index('data-passkey="get"') : html.index("Sign in with a passkey")]
    assert "data-passkey-autofill" in form
    assert "data-passkey-show hidden" in form


def test_sign_in_with_a_passkey_and_no_password(ada_with_passkey, client, authenticator):
    offered = options(client, PASSWORDLESS_OPTIONS)
    assert offered["allowCredentials"] == []  # discoverable: the authenticator knows whose
    assert offered["userVerification"] == "required"
    response = client.post(PASSWORDLESS, {"credential": authenticator.get(offered)})
    assert response["Location"] == "/"
    assert client.session[METHOD_KEY] == "passwordless"
    assert sms.outbox == []
    assert client.get("/").status_code == 200


def test_sign_in_with_a_passkey_opens_django_admin(ada_with_passkey, client, authenticator):
    """Passkey alone is both factors: Django admin asks for no code on top."""
    ada_with_passkey.is_staff = True
    ada_with_passkey.save()
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    client.post(PASSWORDLESS, {"credential": answer})
    assert client.get("/admin/").status_code == 200


def test_a_locked_password_does_not_stop_a_passkey(
    ada_with_passkey, client, authenticator, sign_in
):
    """The lock is against guessing the password, which a passkey sign-in does not use."""
    User.objects.filter(pk=ada_with_passkey.pk).update(password_locked_at=timezone.now())
    assert "_auth_user_id" not in sign_in().wsgi_request.session  # the password is refused
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    assert client.post(PASSWORDLESS, {"credential": answer})["Location"] == "/"
    # And the session stays signed in on the next request.
    assert client.get(SETTINGS).status_code == 200


def test_the_next_of_a_passkey_sign_in_must_be_of_this_site(
    ada_with_passkey, client, authenticator
):
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    response = client.post(PASSWORDLESS, {"credential": answer, "next": "https://evil.test/"})
    assert response["Location"] == "/"


def test_sign_in_with_a_passkey_goes_on_to_next(ada_with_passkey, client, authenticator):
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    response = client.post(PASSWORDLESS, {"credential": answer, "next": "/settings/"})
    assert response["Location"] == "/settings/"


def test_without_user_verification_a_passkey_is_not_both_factors(
    ada_with_passkey, client, authenticator
):
    authenticator.user_verified = False
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    response = client.post(PASSWORDLESS, {"credential": answer}, follow=True)
    assert "Your passkey couldn't be checked" in page(response)
    assert METHOD_KEY not in client.session


def test_an_unknown_passkey_signs_nobody_in(ada_with_passkey, client):
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "testserver"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    answer = stranger.get(options(client, PASSWORDLESS_OPTIONS))
    response = client.post(PASSWORDLESS, {"credential": answer}, follow=True)
    assert "This passkey isn't known to Backstage." in page(response)
    assert METHOD_KEY not in client.session


def test_a_passkey_of_a_deactivated_member_signs_nobody_in(
    ada_with_passkey, client, authenticator
):
    ada_with_passkey.is_active = False
    ada_with_passkey.save()
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    client.post(PASSWORDLESS, {"credential": answer})
    assert METHOD_KEY not in client.session


def test_a_second_factor_challenge_does_not_sign_in_without_the_password(
    ada_with_passkey, sign_in, client, authenticator
):
    sign_in()
    offered = options(client, STEP_OPTIONS)  # for the step after the password
    response = client.post(PASSWORDLESS, {"credential": authenticator.get(offered)}, follow=True)
    assert "This passkey request has expired or was already used." in page(response)
    assert METHOD_KEY not in client.session


def test_the_wrong_account_in_the_user_handle_is_refused(
    ada_with_passkey, client, authenticator
):
    authenticator.credentials[0].user_handle = b"someone else"
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    client.post(PASSWORDLESS, {"credential": answer})
    assert METHOD_KEY not in client.session
    assert SecurityEvent.objects.get(kind=Kind.PASSKEY_FAILED).detail["reason"] == "user_handle"


def test_mandatory_enterprise_login_wins_over_a_passkey(
    ada_with_passkey, client, authenticator
):
    acme = Membership.objects.get(user=ada_with_passkey).organization
    EmailDomain.objects.create(organization=acme, domain="example.com")
    EnterpriseLogin.objects.create(
        organization=acme, enabled=True, mandatory=True,
        idp_entity_id="https://idp.acme.test", idp_sso_url="https://idp.acme.test/sso",
    )
    answer = authenticator.get(options(client, PASSWORDLESS_OPTIONS))
    response = client.post(PASSWORDLESS, {"credential": answer})
    assert response["Location"] == "/signin/enterprise/?email=ada%40example.com"
    assert METHOD_KEY not in client.session
    assert "_auth_user_id" not in client.session


# Activity and Django admin ----------------------------------------------------------------


def test_organization_admins_see_passkey_events_in_activity(
    ada, client, authenticator, make_member
):
    add_passkey(client, authenticator)
    admin = make_member(email="root@example.com", role=Membership.Role.ADMIN)
    admin_client = signed_in(admin)
    activity = page(admin_client.get("/organizations/acme-events/activity/"))
    assert "Passkey added" in activity
    assert "Chrome on macOS" in activity


def test_django_admin_lists_a_members_passkeys_read_only(ada, client, authenticator, make_user):
    device = add_passkey(client, authenticator)
    staff = make_user(email="support@example.com", is_staff=True, is_superuser=True)
    staff_client = signed_in(staff)
    listing = page(staff_client.get("/admin/mfa/passkeydevice/?q=ada"))
    assert "Chrome on macOS" in listing
    assert "Remove user phone" in listing
    detail = staff_client.get(f"/admin/mfa/passkeydevice/{device.pk}/change/")
    assert detail.status_code == 200
    assert 'name="name"' not in page_html(detail)  # nothing to edit
    assert staff_client.get("/admin/mfa/passkeydevice/add/").status_code == 403


def test_remove_user_phone_removes_the_passkeys_too(
    ada, client, authenticator, make_member, django_capture_on_commit_callbacks
):
    add_passkey(client, authenticator)
    recovery_codes_create(user=ada, ip=None, user_agent="")
    admin = make_member(email="root@example.com", role=Membership.Role.ADMIN)
    admin_client = signed_in(admin)
    remove = reverse("organizations:member-phone-remove", args=["acme-events", ada.pk])
    confirmation = page(admin_client.get(remove))
    assert "and their passkeys if they added any" in confirmation
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(remove)
    assert not PasskeyDevice.objects.exists()
    assert not RecoveryCode.objects.exists()
    event = SecurityEvent.objects.get(kind=Kind.PHONE_REMOVED)
    assert event.detail["passkeys_removed"] is True
    assert "passkeys removed" in event_summary(event)
    [email] = [email for email in mail.outbox if email.to == [ada.email]][-1:]
    assert email.subject == (
        "The phone, passkeys and recovery codes of your Backstage account were removed"
    )
    # The passkeys are named once, among the other factors removed.
    assert "number, the passkeys and the recovery codes from your" in " ".join(email.body.split())
    assert email.body.count("passkey") == 1
