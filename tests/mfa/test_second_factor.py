"""The SMS second factor at sign-in: enrollment, codes, resend (SPEC journeys 4-5, SMS codes)."""

import datetime
import html

import pytest
from django.core import mail
from django.test import Client

from mfa import sms
from mfa.models import SmsDevice, SmsMessage

CODE_PAGE = "/signin/code/"
PHONE_PAGE = "/signin/phone/"


def enter_code(client, code, remember=False):
    data = {"code": code}
    if remember:
        data["remember"] = "on"
    return client.post(CODE_PAGE, data)


# Enrollment ---------------------------------------------------------------


def test_member_without_a_phone_is_asked_for_one_after_the_password(make_member, sign_in):
    make_member()
    response = sign_in()
    assert response["Location"] == PHONE_PAGE


def test_half_signed_in_session_reaches_nothing_but_the_sign_in_steps(make_member, sign_in, client):
    make_member()
    sign_in()
    assert client.get("/")["Location"] == "/signin/?next=/"
    assert client.get("/admin/").status_code == 302
    assert client.get(PHONE_PAGE).status_code == 200


def test_phone_page_has_the_country_list_and_the_words_of_the_articles(
    make_member, sign_in, client
):
    make_member()
    sign_in()
    page = client.get(PHONE_PAGE).content.decode()
    assert "Send a code" in page
    assert '<option value="CH">Switzerland (+41)</option>' in page


def test_enrollment_sends_a_code_and_saves_the_number_only_once_verified(
    make_member, sign_in, client, last_code
):
    user = make_member()
    sign_in()
    response = client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 67"})
    assert response["Location"] == CODE_PAGE
    assert sms.outbox[-1].to == "+41791234567"
    device = SmsDevice.objects.get(user=user)
    assert not device.confirmed and device.number == ""

    response = enter_code(client, last_code())
    assert response["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed and device.number == "+41791234567"
    assert client.get("/").status_code == 200


def test_number_in_international_format_needs_no_country(make_member, sign_in, client):
    make_member()
    sign_in()
    response = client.post(PHONE_PAGE, {"country": "", "number": "+44 7400 123456"})
    assert response["Location"] == CODE_PAGE
    assert sms.outbox[-1].to == "+447400123456"


def test_code_message_has_the_webotp_line(make_member, sign_in, client, last_code):
    make_member()
    sign_in()
    client.post(PHONE_PAGE, {"country": "CH", "number": "0791234567"})
    code = last_code()
    assert sms.outbox[-1].body == f"Your Backstage code is {code}.\n\n@testserver #{code}"


@pytest.mark.parametrize(
    ("country", "number", "message"),
    [
        ("CH", "", "Enter your mobile number."),
        ("CH", "079 ABC 45 67", "Enter a valid mobile number"),
        ("CH", "0791", "valid number for Switzerland"),
        ("CH", "0791234567891234567", "Enter a valid mobile number"),
        ("CH", "9" * 40, "too long for a phone number"),
        ("", "0791234567", "Choose the country of your number"),
        ("CH", "044 668 18 00", "can&#x27;t receive text messages"),  # a Zurich landline
        ("", "+7 912 345 67 89", "can&#x27;t be sent to numbers in Russia"),
        ("CH", "+", "Enter a valid mobile number"),
        ("CH", "079\u200b1234567", "Enter a valid mobile number"),
        ("CH", "0791234567\x00", "Null characters are not allowed"),
        ("ZZ", "0791234567", "Select a valid choice"),
        ("CH", "<script>alert(1)</script>", "Enter a valid mobile number"),
    ],
)
def test_bad_phone_numbers_get_a_clear_message_and_send_nothing(
    make_member, sign_in, client, country, number, message
):
    make_member()
    sign_in()
    response = client.post(PHONE_PAGE, {"country": country, "number": number})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert sms.outbox == []
    assert not SmsMessage.objects.exists()


def test_arabic_indic_digits_are_read_as_digits(make_member, sign_in, client):
    make_member()
    sign_in()
    client.post(PHONE_PAGE, {"country": "CH", "number": "٠٧٩١٢٣٤٥٦٧"})
    assert sms.outbox[-1].to == "+41791234567"


def test_number_used_by_another_member_is_allowed(enrolled_member, make_user, client, sign_in):
    enrolled_member(email="grace@example.com")
    make_user(email="ada@example.com")
    sign_in()
    assert client.post(PHONE_PAGE, {"country": "CH", "number": "0791234567"})["Location"] == (
        CODE_PAGE
    )


# Later sign-ins -----------------------------------------------------------


def test_later_sign_in_sends_a_code_to_the_number_on_file(enrolled_member, sign_in, client):
    enrolled_member()
    assert sign_in()["Location"] == CODE_PAGE
    assert sms.outbox[-1].to == "+41791234567"
    page = client.get(CODE_PAGE).content.decode()
    assert "ending in <strong>67</strong>" in page
    assert "Remember me for 14 days" in page
    assert ">Continue</button>" in page
    assert 'autocomplete="one-time-code"' in page


def test_right_code_signs_in_and_rotates_the_session_key(
    enrolled_member, sign_in, client, last_code
):
    enrolled_member()
    sign_in()
    before = client.session.session_key
    response = enter_code(client, last_code())
    assert response["Location"] == "/"
    assert client.session.session_key != before
    assert client.get("/").status_code == 200


def test_next_survives_the_code_step(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in(next="/signin/?from=next")
    assert enter_code(client, last_code())["Location"] == "/signin/?from=next"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code from the text message."),
        ("12345", "The code is 6 digits"),
        ("1234567", "The code is 6 digits"),
        ("12a456", "The code is 6 digits"),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "The code is 6 digits"),  # fullwidth
        ("-12345", "The code is 6 digits"),
        ("1e5", "The code is 6 digits"),
        ("x" * 5000, "at most 20 characters"),
    ],
)
def test_malformed_codes_get_a_clear_message(enrolled_member, sign_in, client, code, message):
    enrolled_member()
    sign_in()
    response = enter_code(client, code)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_code_with_spaces_is_accepted(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in()
    code = last_code()
    assert enter_code(client, f"{code[:3]} {code[3:]}")["Location"] == "/"


def test_wrong_code_is_refused(enrolled_member, sign_in, client, last_code):
    enrolled_member()
    sign_in()
    wrong = f"{(int(last_code()) + 1) % 1_000_000:06d}"
    response = enter_code(client, wrong)
    assert "That code isn&#x27;t right." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_code_expires_after_ten_minutes(enrolled_member, sign_in, client, last_code, clock):
    enrolled_member()
    sign_in()
    clock.advance(minutes=10, seconds=1)
    response = enter_code(client, last_code())
    assert "This code has expired." in response.content.decode()


def test_code_works_just_before_ten_minutes(enrolled_member, sign_in, client, last_code, clock):
    enrolled_member()
    sign_in()
    clock.advance(minutes=9, seconds=59)
    assert enter_code(client, last_code())["Location"] == "/"


def test_code_works_only_for_the_sign_in_attempt_it_was_sent_for(
    enrolled_member, sign_in, last_code, clock
):
    enrolled_member()
    first, second = Client(), Client()
    sign_in(client=first)
    code = last_code()
    # The second attempt arrives during the cooldown, so no new code replaces the first.
    sign_in(client=second)
    assert len(sms.outbox) == 1
    response = enter_code(second, code)
    assert "_auth_user_id" not in second.session
    assert "isn&#x27;t right" in response.content.decode()


def test_five_wrong_tries_kill_the_code(enrolled_member, sign_in, client, last_code, clock):
    enrolled_member()
    sign_in()
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        enter_code(client, wrong)
        clock.advance(minutes=1)  # wait out the growing back-off between tries
    response = enter_code(client, code)
    assert "This code can no longer be used. Ask for a new code." in response.content.decode()


def test_wrong_tries_are_throttled_and_a_new_code_does_not_reset_the_count(
    enrolled_member, sign_in, client, last_code, clock
):
    user = enrolled_member()
    sign_in()
    for _ in range(3):
        enter_code(client, "000000" if last_code() != "000000" else "111111")
        clock.advance(seconds=31)
        client.post("/signin/code/resend/")
    device = SmsDevice.objects.get(user=user)
    assert device.throttling_failure_count == 3
    # Right away after a failure, even the right code is refused until the back-off passes.
    enter_code(client, "000000" if last_code() != "000000" else "111111")
    response = enter_code(client, last_code())
    assert "Too many wrong codes." in response.content.decode()
    clock.advance(seconds=16)
    assert enter_code(client, last_code())["Location"] == "/"


def test_send_again_waits_thirty_seconds(enrolled_member, sign_in, client, clock):
    enrolled_member()
    sign_in()
    response = client.post("/signin/code/resend/", follow=True)
    assert "You can ask for another in" in response.content.decode()
    assert len(sms.outbox) == 1
    clock.advance(seconds=31)
    response = client.post("/signin/code/resend/", follow=True)
    assert "A new code is on its way." in response.content.decode()
    assert len(sms.outbox) == 2


def test_code_step_needs_a_password_first(client, db):  # messages live in the session
    assert client.get(CODE_PAGE)["Location"] == "/signin/"
    assert client.post(CODE_PAGE, {"code": "123456"})["Location"] == "/signin/"


def test_code_step_expires_fifteen_minutes_after_the_password(
    enrolled_member, sign_in, client, last_code, clock
):
    enrolled_member()
    sign_in()
    clock.advance(minutes=16)
    assert enter_code(client, last_code())["Location"] == "/signin/"


# Roll-out (SPEC journey 9) ------------------------------------------------


def test_before_the_enforcement_date_without_opt_in_the_password_is_enough(
    make_member, sign_in, settings
):
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)
    make_member()
    assert sign_in()["Location"] == "/"


def test_before_the_enforcement_date_an_opted_in_organization_needs_the_code(
    make_member, make_organization, sign_in, settings
):
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)
    make_member(organization=make_organization(mfa_opt_in=True))
    assert sign_in()["Location"] == PHONE_PAGE


def test_support_staff_always_need_the_code(make_user, sign_in, settings):
    settings.MFA_ENFORCEMENT_DATE = datetime.date(2999, 1, 1)
    make_user(is_staff=True)
    assert sign_in()["Location"] == PHONE_PAGE


def test_on_the_enforcement_date_everyone_needs_the_code(make_member, sign_in, settings, clock):
    settings.MFA_ENFORCEMENT_DATE = clock.now.date()
    make_member()
    assert sign_in()["Location"] == PHONE_PAGE


def test_send_again_at_sign_in_ignores_a_number_waiting_in_a_phone_change(
    enrolled_member, sign_in, client, clock
):
    user = enrolled_member()
    sign_in()
    # Meanwhile, in personal settings on another browser, a change to a new number started.
    SmsDevice.objects.filter(user=user).update(pending_number="+41791112233")
    clock.advance(seconds=31)
    client.post("/signin/code/resend/")
    assert sms.outbox[-1].to == "+41791234567"
    assert "ending in <strong>67</strong>" in client.get(CODE_PAGE).content.decode()


# Refused and failed sends, as the pages show them ----------------------------------------


def test_a_failed_send_is_shown_on_the_phone_page_as_it_was_raised(
    make_member, sign_in, client, settings
):
    settings.SMS_BACKEND = "tests.mfa.test_sending.FailingSmsBackend"
    make_member()
    sign_in()
    response = client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 67"})
    assert response.status_code == 200
    assert "This phone number isn't valid. Check it and try again." in html.unescape(
        response.content.decode()
    )
    assert SmsMessage.objects.get().status == SmsMessage.Status.FAILED


def test_a_failed_send_is_shown_on_the_code_page_in_the_products_words(
    enrolled_member, sign_in, client, settings, clock
):
    enrolled_member()
    sign_in()
    settings.SMS_BACKEND = "tests.mfa.test_sending.FailingSmsBackend"
    clock.advance(seconds=31)
    response = client.post(f"{CODE_PAGE}resend/", follow=True)
    assert "This phone number isn&#x27;t valid. Check it and try again." in (
        response.content.decode()
    )


def test_the_first_phone_set_at_sign_in_is_emailed_to_the_member(
    make_member, sign_in, client, last_code, django_capture_on_commit_callbacks
):
    # SECURITY 29: a new phone after Remove user phone is set with the password alone, so
    # the member hears of it, with how to dispute it.
    user = make_member()
    sign_in()
    client.post(PHONE_PAGE, {"country": "CH", "number": "079 123 45 67"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        enter_code(client, last_code())
    [email] = mail.outbox
    assert email.to == [user.email]
    body = email.body
    assert "A phone number was added to your Backstage account" in " ".join(body.split())
    assert "ending in 67" in body and "/password-reset/" in body
