"""Personal settings (SPEC journey 7, "Remembered browsers", "Sessions"; SECURITY 20, 24-27)."""

import datetime
import html

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import SecurityEvent
from accounts.user_agents import browser_label
from core.limits import limit
from mfa import sms
from mfa.models import RememberedBrowser, SmsDevice
from tests.conftest import PASSWORD
from tests.helpers import page_html as page

SETTINGS = "/settings/"
NEW_PASSWORD = "purple elephants dance quietly"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def fully_signed_in(client, sign_in, last_code, email="ada@example.com"):
    """Password, then the SMS code, as a person signs in."""
    assert sign_in(client=client, email=email)["Location"] == "/signin/code/"
    assert client.post("/signin/code/", {"code": last_code()})["Location"] == "/"
    return client


@pytest.fixture
def ada(enrolled_member, sign_in, client, last_code):
    """Ada, with the phone +41 79 123 45 67, fully signed in on `client`."""
    user = enrolled_member()
    fully_signed_in(client, sign_in, last_code)
    sms.outbox.clear()
    return user


def remembered_browser(user, user_agent="", *, ip="192.0.2.10", token="t", **fields):
    now = timezone.now()
    fields.setdefault("created_at", now - datetime.timedelta(days=2))
    fields.setdefault("expires_at", now + datetime.timedelta(days=12))
    return RememberedBrowser.objects.create(
        user=user, token_hash=f"{token:0>64}", user_agent=user_agent, last_ip=ip,
        last_used_at=now, **fields,
    )


# Who may come in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", SETTINGS),
        ("post", "/settings/name/"),
        ("post", "/settings/password/"),
        ("get", "/settings/phone/"),
        ("post", "/settings/phone/"),
        ("get", "/settings/phone/code/"),
        ("post", "/settings/browsers/forget/"),
        ("post", "/settings/sessions/end-others/"),
    ],
)
def test_anonymous_person_is_sent_to_the_sign_in_page(client, db, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"] == f"/signin/?next={path}"


def test_half_signed_in_session_cannot_reach_settings(enrolled_member, sign_in, client):
    enrolled_member()
    sign_in()  # the password, but not the code
    sms.outbox.clear()
    assert client.get(SETTINGS)["Location"] == "/signin/?next=/settings/"
    response = client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    assert response["Location"] == "/signin/?next=/settings/phone/"
    assert sms.outbox == []


def test_initials_menu_links_to_personal_settings(ada, client):
    assert f'href="{SETTINGS}"' in page(client.get("/"))


def test_actions_are_post_only(ada, client):
    assert client.get("/settings/sessions/end-others/").status_code == 405
    assert client.get("/settings/browsers/forget/").status_code == 405


def test_missing_csrf_token_is_refused(enrolled_member):
    user = enrolled_member()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    other = Client()
    other.force_login(user)
    response = strict.post("/settings/sessions/end-others/")
    assert response.status_code == 403
    assert strict.post("/settings/name/", {"full_name": "Mallory"}).status_code == 403
    user.refresh_from_db()
    assert user.full_name == "Ada Lovelace"
    assert other.get("/").status_code == 200


# What the page shows ------------------------------------------------------------------------


def test_settings_page_shows_name_email_and_the_phone_masked_to_its_last_two_digits(ada, client):
    text = page(client.get(SETTINGS))
    assert 'value="Ada Lovelace"' in text
    assert 'value="ada@example.com" readonly' in text
    assert "•••• •• 67" in text
    assert "791234567" not in text and "123 45" not in text
    assert "Change phone" in text


def test_settings_page_says_no_phone_when_there_is_none(make_member, client):
    client.force_login(make_member())
    text = page(client.get(SETTINGS))
    assert "No phone" in text


def test_settings_page_lists_my_remembered_browsers_with_browser_and_system(
    ada, client, make_user
):
    remembered_browser(ada, CHROME_MAC, token="1", ip="192.0.2.1")
    remembered_browser(ada, FIREFOX_WINDOWS, token="2", ip="2001:db8::1")
    remembered_browser(ada, SAFARI_IPHONE, token="3")
    remembered_browser(ada, "<script>alert(1)</script>", token="4")
    remembered_browser(ada, "curl/8.0", token="5", expires_at=timezone.now())  # expired
    remembered_browser(make_user(email="grace@example.com"), FIREFOX_WINDOWS, token="6",
                       ip="198.51.100.7")
    text = page(client.get(SETTINGS))
    for label in ("Chrome on macOS", "Firefox on Windows", "Safari on iPhone", "Unknown browser"):
        assert label in text
    assert "192.0.2.1" in text and "2001:db8::1" in text
    assert "198.51.100.7" not in text
    assert "<script>alert(1)</script>" not in text
    assert text.count(">Forget<") == 4


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_MAC, "Chrome on macOS"),
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
            "Chrome on iPad",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
         "Firefox on Linux"),
        ("Mozilla/5.0 (Windows NT 10.0)", "Unknown browser on Windows"),
        ("", "Unknown browser"),
        ("x" * 300, "Unknown browser"),
    ],
)
def test_browser_and_system_are_read_from_the_user_agent(user_agent, label):
    assert browser_label(user_agent) == label


def test_this_browser_is_marked_in_the_list(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in()
    client.post(
        "/signin/code/", {"code": last_code(), "remember": "on"}, HTTP_USER_AGENT=CHROME_MAC
    )
    text = page(client.get(SETTINGS))
    assert "Chrome on macOS" in text
    assert "(this browser)" in text


# Full name ----------------------------------------------------------------------------------


def test_name_change_is_saved_and_shown(ada, client):
    response = client.post("/settings/name/", {"full_name": "  Ada King  "}, follow=True)
    assert "Your name has been saved." in page(response)
    ada.refresh_from_db()
    assert ada.full_name == "Ada King"
    assert 'value="Ada King"' in page(response)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter your full name."),
        ("   ", "Enter your full name."),
        ("x" * 10_240, "Your name can have at most 150 characters (it has 10240)."),
        ("Ada\nLovelace", "Your name can&#x27;t contain control characters or line breaks."),
        ("Ada\x07", "Your name can&#x27;t contain control characters or line breaks."),
        ("Ada\x00", "Your name can&#x27;t contain control characters."),
        ("Ada\u202eecalevoL", "Your name can&#x27;t contain control characters or line breaks."),
    ],
)
def test_bad_names_are_refused_and_change_nothing(ada, client, name, message):
    response = client.post("/settings/name/", {"full_name": name})
    assert response.status_code == 200
    assert message in page(response)
    ada.refresh_from_db()
    assert ada.full_name == "Ada Lovelace"


def test_name_with_html_is_saved_as_text_and_shown_escaped(ada, client):
    name = "<script>alert(1)</script>"
    text = page(client.post("/settings/name/", {"full_name": name}, follow=True))
    ada.refresh_from_db()
    assert ada.full_name == name
    assert name not in text
    assert html.escape(name) in text


# Change phone -------------------------------------------------------------------------------


def test_phone_change_takes_effect_only_once_the_code_sent_to_the_new_number_is_entered(
    ada, client, last_code, django_capture_on_commit_callbacks
):
    remembered_browser(ada, CHROME_MAC)
    response = client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    assert response["Location"] == "/settings/phone/code/"
    assert [message.to for message in sms.outbox] == ["+41787654321"]
    assert "ending in <strong>21</strong>" in page(client.get("/settings/phone/code/"))

    # Until the code is entered, the old number stays the phone.
    assert "•••• •• 67" in page(client.get(SETTINGS))
    assert SmsDevice.objects.get(user=ada).number == "+41791234567"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/phone/code/", {"code": last_code()}, follow=True)
    text = page(response)
    assert "Your phone number has been changed." in text
    assert "•••• •• 21" in text
    assert SmsDevice.objects.get(user=ada).number == "+41787654321"
    assert "No browser is remembered." in text
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == "Your Backstage phone number was changed"
    assert "ending in 21" in email.body
    assert "If this wasn't you" in email.body
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PHONE_CHANGED, subject=ada
    ).count() == 1


def test_next_sign_in_sends_the_code_to_the_new_number(
    ada, client, last_code, sign_in
):
    client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    client.post("/settings/phone/code/", {"code": last_code()})
    other = Client()
    sms.outbox.clear()
    assert sign_in(client=other)["Location"] == "/signin/code/"
    assert sms.outbox[-1].to == "+41787654321"


@pytest.mark.parametrize("late", [False, True])
def test_phone_change_with_a_wrong_or_expired_code_changes_nothing(
    ada, client, last_code, clock, django_capture_on_commit_callbacks, late
):
    client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    if late:
        clock.advance(minutes=10, seconds=1)
        code, message = last_code(), "This code has expired."
    else:
        code = f"{(int(last_code()) + 1) % 1_000_000:06d}"
        message = "That code isn&#x27;t right."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/phone/code/", {"code": code})
    assert message in page(response)
    assert SmsDevice.objects.get(user=ada).number == "+41791234567"
    assert "•••• •• 67" in page(client.get(SETTINGS))
    assert mail.outbox == []
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PHONE_CHANGED).exists()


def test_code_of_a_phone_change_works_only_in_the_session_that_asked_for_it(
    ada, client, last_code
):
    client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    code = last_code()
    other = Client()
    other.force_login(ada)
    session = other.session
    session["phone_change_attempt"] = "guessed"
    session.save()
    response = other.post("/settings/phone/code/", {"code": code})
    assert "isn&#x27;t right" in page(response)
    assert SmsDevice.objects.get(user=ada).number == "+41791234567"


def test_code_page_without_a_change_under_way_goes_to_the_phone_form(ada, client):
    assert client.get("/settings/phone/code/")["Location"] == "/settings/phone/"
    assert client.post("/settings/phone/code/", {"code": "123456"})["Location"] == (
        "/settings/phone/"
    )


@pytest.mark.parametrize(
    ("country", "number", "message"),
    [
        ("CH", "", "Enter your mobile number."),
        ("CH", "0791", "valid number for Switzerland"),
        ("CH", "044 668 18 00", "can&#x27;t receive text messages"),
        ("", "+7 912 345 67 89", "can&#x27;t be sent to numbers in Russia"),
        ("CH", "<script>alert(1)</script>", "Enter a valid mobile number"),
        ("CH", "9" * 10_240, "too long for a phone number"),
    ],
)
def test_bad_phone_numbers_get_a_clear_message_and_send_nothing(
    ada, client, country, number, message
):
    response = client.post("/settings/phone/", {"country": country, "number": number})
    assert response.status_code == 200
    assert message in page(response)
    assert sms.outbox == []
    assert SmsDevice.objects.get(user=ada).pending_number == ""


def test_own_number_again_is_refused(ada, client):
    response = client.post("/settings/phone/", {"country": "CH", "number": "079 123 45 67"})
    assert "This is already your phone number." in page(response)
    assert sms.outbox == []


def test_sending_limits_of_codes_are_shown(ada, client, clock):
    client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    response = client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 22"})
    assert "A code was just sent. You can ask for another in" in page(response)
    response = client.post("/settings/phone/code/resend/", follow=True)
    assert "You can ask for another in" in page(response)
    assert len(sms.outbox) == 1
    clock.advance(seconds=31)
    response = client.post("/settings/phone/code/resend/", follow=True)
    assert "A new code is on its way." in page(response)
    assert [message.to for message in sms.outbox] == ["+41787654321"] * 2


# Password -----------------------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(
        "/settings/password/",
        {"password": current, "password1": new, "password2": again or new},
    )


def test_password_change_needs_the_current_password(ada, client):
    response = change_password(client, current="not my password")
    assert "Your current password isn&#x27;t right." in page(response)
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD)


def test_wrong_current_password_is_not_stored_by_the_lockout(ada, client):
    change_password(client, current="my secret guess")
    [attempt] = AccessAttempt.objects.all()
    assert attempt.username == "ada@example.com"
    assert "my secret guess" not in attempt.post_data
    assert NEW_PASSWORD not in attempt.post_data


def test_five_wrong_current_passwords_pause_password_changes(ada, client):
    for _ in range(4):
        assert "isn&#x27;t right" in page(change_password(client, current="wrong password"))
    response = change_password(client, current="wrong password")
    assert response.status_code == 200
    assert "Too many wrong passwords." in page(response)
    response = change_password(client)  # even the right one
    assert "Too many wrong passwords." in page(response)
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD)
    # Still signed in here: the lockout pauses the password, not the session.
    assert client.get(SETTINGS).status_code == 200


def test_failed_sign_ins_from_many_ips_pause_password_changes_too(ada, client, settings):
    for attempt in range(limit("SIGNIN_FAILURES_PER_EMAIL").max):
        Client(REMOTE_ADDR=f"10.2.{attempt}.1").post(
            "/signin/", {"email": "ada@example.com", "password": "guess"}
        )
    response = change_password(client)
    assert "Too many wrong passwords." in page(response)
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("short words", None, "This password is too short. It must contain at least 12"),
        ("password1234", None, "This password is too common."),
        ("ada@example.com1", None, "The password is too similar to the email"),
        (NEW_PASSWORD, "purple elephants dance loudly", "The two passwords don&#x27;t match."),
        ("", None, "Choose a new password."),
        ("x" * 257, None, "Your password can have at most 256 characters."),
    ],
)
def test_new_password_follows_the_password_rules(ada, client, new, again, message):
    response = change_password(client, new=new, again=again)
    assert response.status_code == 200
    assert message in page(response)
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD)


def test_password_change_ends_other_sessions_and_keeps_this_one(
    ada, client, sign_in, last_code, django_capture_on_commit_callbacks
):
    other = fully_signed_in(Client(), sign_in, last_code)
    with django_capture_on_commit_callbacks(execute=True):
        response = change_password(client)
    assert response["Location"] == SETTINGS
    text = page(client.get(SETTINGS))
    assert "Your password has been changed." in text
    assert other.get("/")["Location"] == "/signin/?next=/"
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)
    [email] = mail.outbox
    assert email.subject == "Your Backstage password was changed"
    assert "If this wasn't you" in email.body
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PASSWORD_CHANGED, subject=ada
    ).exists()


def test_password_change_forgets_remembered_browsers(ada, client, sign_in, last_code):
    # Another browser, remembered at its sign-in.
    other = Client()
    sign_in(client=other)
    other.post("/signin/code/", {"code": last_code(), "remember": "on"})
    assert "Forget all" in page(client.get(SETTINGS))
    change_password(client)
    assert "No browser is remembered." in page(client.get(SETTINGS))
    sms.outbox.clear()
    assert sign_in(client=other, password=NEW_PASSWORD)["Location"] == "/signin/code/"
    assert len(sms.outbox) == 1


# Remembered browsers and sessions -----------------------------------------------------------


def test_forget_one_remembered_browser(ada, client):
    kept = remembered_browser(ada, CHROME_MAC, token="1")
    gone = remembered_browser(ada, FIREFOX_WINDOWS, token="2")
    response = client.post(f"/settings/browsers/{gone.pk}/forget/", follow=True)
    text = page(response)
    assert "Browser forgotten." in text
    assert "Firefox on Windows" not in text and "Chrome on macOS" in text
    assert list(RememberedBrowser.objects.all()) == [kept]
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.BROWSER_FORGOTTEN, subject=ada
    ).exists()


@pytest.mark.parametrize("browser_id", ["theirs", "missing", 10**30])
def test_forgetting_someone_elses_browser_answers_not_found_and_deletes_nothing(
    ada, client, make_user, browser_id
):
    theirs = remembered_browser(make_user(email="grace@example.com"), CHROME_MAC)
    browser_id = {"theirs": theirs.pk, "missing": theirs.pk + 100}.get(browser_id, browser_id)
    response = client.post(f"/settings/browsers/{browser_id}/forget/")
    assert response.status_code == 404
    assert RememberedBrowser.objects.filter(pk=theirs.pk).exists()


def test_forget_all_remembered_browsers(ada, client, make_user):
    remembered_browser(ada, CHROME_MAC, token="1")
    remembered_browser(ada, FIREFOX_WINDOWS, token="2")
    theirs = remembered_browser(make_user(email="grace@example.com"), CHROME_MAC, token="3")
    text = page(client.post("/settings/browsers/forget/", follow=True))
    assert "All browsers forgotten." in text
    assert "No browser is remembered." in text
    assert list(RememberedBrowser.objects.all()) == [theirs]


def test_sign_out_of_all_other_sessions(ada, client, sign_in, last_code, make_user):
    mine_elsewhere = fully_signed_in(Client(), sign_in, last_code)
    grace = make_user(email="grace@example.com")
    someone_else = Client()
    someone_else.force_login(grace)
    response = client.post("/settings/sessions/end-others/", follow=True)
    assert "You&#x27;re signed out of all other sessions." in page(response)
    assert client.get(SETTINGS).status_code == 200
    assert mine_elsewhere.get("/")["Location"] == "/signin/?next=/"
    assert someone_else.get("/").status_code == 200
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.SESSIONS_ENDED, subject=ada
    ).exists()


def test_a_failed_send_is_shown_on_the_phone_change_page(ada, client, settings):
    settings.SMS_BACKEND = "tests.mfa.test_sending.FailingSmsBackend"
    response = client.post("/settings/phone/", {"country": "CH", "number": "078 765 43 21"})
    assert response.status_code == 200
    assert "This phone number isn't valid. Check it and try again." in html.unescape(
        page(response)
    )
