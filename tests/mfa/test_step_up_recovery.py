"""The step-up before Django admin with a recovery code: staff whose remembered browser signed
them in with the password alone, who lost their phone and have no app or passkey, use one of
their recovery codes, by the sign-in's own rule (mfa.recovery.recovery_code_verify): used
once, wrong ones counted against the member's cap on wrong codes, the use recorded and
emailed."""

import pytest
from django.core import mail
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import SecurityEvent
from core.limits import limit
from mfa import sms
from mfa.models import RecoveryCode, RecoveryCodeDevice, SmsDevice
from mfa.recovery import recovery_codes_create
from tests.helpers import page, page_html, signed_in

STEP_UP = "/signin/step-up/?next=/admin/"
RECOVERY_LINK = "/signin/step-up/?next=%2Fadmin%2F&amp;via=recovery"
CHOOSE_RECOVERY = "/signin/step-up/?next=/admin/&via=recovery"
WRONG = "That recovery code isn't right, or it was already used. Check it and try again."
CAPPED = "Too many wrong codes were entered for your account"
Kind = SecurityEvent.Kind


@pytest.fixture
def staff(enrolled_member):
    """Sam, support staff with a phone (+41 79 123 45 67) and nothing else yet."""
    return enrolled_member(email="sam@example.com", is_staff=True, is_superuser=True)


def codes_for(user) -> list[str]:
    return recovery_codes_create(user=user, ip=None, user_agent="")


def remembered(user):
    """A browser of `user` signed in by a remembered browser: the password alone."""
    return signed_in(user, method="remembered")


def step_up_with(client, code, *, url=STEP_UP):
    return client.post(url, {"code": code})


def recovery_chosen(user):
    """A remembered browser of `user` on the step-up's "Use a recovery code"."""
    client = remembered(user)
    assert "<h1>Use a recovery code</h1>" in page(client.get(CHOOSE_RECOVERY))
    return client


# The link --------------------------------------------------------------------------------


def test_the_step_up_links_to_recovery_codes_only_when_there_are_unused_ones(staff):
    client = remembered(staff)
    assert "Use a recovery code" not in page(client.get(STEP_UP))
    # Chosen by a link without codes: the step-up as it was, with no recovery form.
    text = page(client.get(CHOOSE_RECOVERY))
    assert "Use a recovery code" not in text
    assert '<button type="submit">Send a code</button>' in text

    [code] = codes_for(staff)[:1]
    RecoveryCode.objects.filter(pk__in=RecoveryCode.objects.order_by("pk")[1:].values("pk")) \
        .delete()
    html = page_html(client.get(STEP_UP))
    assert f'<a href="{RECOVERY_LINK}">Use a recovery code</a>' in html
    # Still the text message first: a recovery code only when the member chooses one.
    assert "<h1>Enter your code</h1>" in html
    assert html.index("Send a code") < html.index("Use a recovery code")
    assert sms.outbox == []

    # The last one used: the link is gone, and the step-up asks for another way again.
    assert step_up_with(recovery_chosen(staff), code)["Location"] == "/admin/"
    assert "Use a recovery code" not in page(client.get(STEP_UP))
    assert "Use a recovery code" not in page(client.get(CHOOSE_RECOVERY))


def test_the_app_step_up_links_to_recovery_codes_after_the_app(staff, add_authenticator):
    add_authenticator(staff)
    codes_for(staff)
    html = page_html(remembered(staff).get(STEP_UP))
    assert "<h1>Enter the code from your authenticator app</h1>" in html
    assert f'<a href="{RECOVERY_LINK}">Use a recovery code</a>' in html
    assert html.index("Send a code by text message instead") < html.index("Use a recovery code")


def test_the_recovery_code_step_up_asks_for_a_code_and_offers_the_other_ways(
    staff, add_authenticator
):
    add_authenticator(staff)
    codes_for(staff)
    html = page_html(recovery_chosen(staff).get(STEP_UP))
    assert "<title>Use a recovery code" in html
    assert "Django admin needs a second factor in this session" in html
    assert "Enter one of the recovery codes that you saved when you created them." in html
    assert '<label for="id_code">Recovery code:</label>' in html
    assert 'action="/signin/step-up/?next=%2Fadmin%2F"' in html
    assert '<button type="submit">Continue</button>' in html
    assert "Remember me" not in html
    assert ">Send a code by text message instead</button>" in html
    assert "Use your authenticator app instead</a>" in html
    assert f'href="{RECOVERY_LINK}"' not in html  # not a link to itself


def test_with_text_messages_off_the_recovery_code_step_up_offers_no_text_message(
    staff, add_authenticator
):
    add_authenticator(staff)
    codes_for(staff)
    SmsDevice.objects.filter(user=staff).update(sms_fallback=False)
    text = page(recovery_chosen(staff).get(STEP_UP))
    assert "Send a code by text message instead" not in text
    assert "Use your authenticator app instead" in text


# Using one -------------------------------------------------------------------------------


def test_a_recovery_code_steps_up_to_admin_once_and_is_gone(
    staff, django_capture_on_commit_callbacks
):
    codes = codes_for(staff)
    mail.outbox.clear()
    client = recovery_chosen(staff)
    assert client.get("/admin/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = step_up_with(client, codes[4].upper())
    assert response["Location"] == "/admin/"
    admin = page(client.get("/admin/"))
    assert "Site administration" in admin
    assert "You used a recovery code: 9 are left." in admin
    device = RecoveryCodeDevice.objects.get(user=staff)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert RecoveryCode.objects.filter(device=device).count() == 9
    assert sms.outbox == []

    # Recorded and emailed as at sign-in, the email saying what the code opened.
    used = SecurityEvent.objects.get(kind=Kind.RECOVERY_CODE_USED)
    assert (used.actor, used.subject, used.detail) == (staff, staff, {"codes_left": 9})
    [email] = mail.outbox
    assert email.to == ["sam@example.com"]
    assert email.subject == (
        "A recovery code was used to open Django admin from your Backstage account"
    )
    assert "was used to open Django admin from your Backstage account, sam@example.com," \
        in email.body
    assert "to sign in" not in email.body
    html = email.alternatives[0][0]
    assert "was used to open Django admin from your Backstage account, " \
        "<strong>sam@example.com</strong>," in " ".join(html.split())
    assert "You have 9 recovery codes left." in email.body
    assert codes[4] not in email.body

    # Used: the same code does not step up another session.
    other = recovery_chosen(staff)
    assert WRONG in page(step_up_with(other, codes[4]))
    assert other.get("/admin/").status_code == 302
    assert RecoveryCode.objects.filter(device=device).count() == 9


def test_few_codes_left_after_a_step_up_say_to_create_new_ones(staff):
    codes = codes_for(staff)
    RecoveryCode.objects.filter(pk__in=RecoveryCode.objects.order_by("pk")[2:].values("pk")) \
        .delete()
    client = recovery_chosen(staff)
    for code in codes:
        if step_up_with(client, code).status_code == 302:
            break
    assert "You used a recovery code: 1 is left. Create new recovery codes in your personal " \
        "settings." in page(client.get("/admin/"))


def test_a_wrong_recovery_code_is_refused_counted_and_recorded(staff):
    codes_for(staff)
    client = recovery_chosen(staff)
    response = step_up_with(client, "aaaaa-aaaaa")
    assert response.status_code == 200
    assert WRONG in page(response)
    assert "<h1>Use a recovery code</h1>" in page(response)
    assert client.get("/admin/").status_code == 302
    # Against the member's one cap on wrong codes, which the sign-in's codes count against.
    assert SmsDevice.objects.get(user=staff).throttling_failure_count == 1
    failed = SecurityEvent.objects.get(kind=Kind.CODE_FAILED, subject=staff)
    assert failed.detail["factor"] == "recovery"
    assert RecoveryCode.objects.count() == 10


def test_a_text_that_cannot_be_a_recovery_code_is_refused_by_the_form(staff):
    codes_for(staff)
    client = recovery_chosen(staff)
    assert "Enter one of your recovery codes." in page(step_up_with(client, ""))
    text = page(step_up_with(client, "123456"))
    assert "A recovery code is 10 letters and digits, like abcde-23456." in text
    assert SmsDevice.objects.get(user=staff).throttling_failure_count == 0
    assert client.get("/admin/").status_code == 302


def test_the_members_cap_on_wrong_codes_holds_at_the_recovery_code_step_up(
    staff, sign_in, client, last_code, clock
):
    codes = codes_for(staff)
    cap = limit("SMS_CODE_FAILURES_PER_USER").max
    SmsDevice.objects.filter(user=staff).update(
        throttling_failure_count=cap - 1, throttling_failure_timestamp=clock.now
    )
    browser = recovery_chosen(staff)
    assert WRONG in page(step_up_with(browser, "aaaaa-aaaaa"))
    assert SmsDevice.objects.get(user=staff).throttling_failure_count == cap
    # At the cap the right code is refused too, and stays unused.
    response = step_up_with(browser, codes[0])
    assert CAPPED in page(response)
    assert browser.get("/admin/").status_code == 302
    assert RecoveryCode.objects.count() == 10
    # The same cap as the sign-in's: its right SMS code is refused as well.
    sign_in(email="sam@example.com")
    assert CAPPED in page(client.post("/signin/code/", {"code": last_code()}))

    clock.advance(seconds=limit("SMS_CODE_FAILURES_PER_USER").window.total_seconds() + 1)
    assert step_up_with(recovery_chosen(staff), codes[0])["Location"] == "/admin/"


def test_another_members_recovery_code_does_not_step_up(staff, enrolled_member):
    grace = enrolled_member("grace@example.com", number="+41791110000")
    codes_for(staff)
    grace_code = codes_for(grace)[0]
    client = recovery_chosen(staff)
    assert WRONG in page(step_up_with(client, grace_code))
    assert client.get("/admin/").status_code == 302
    assert RecoveryCode.objects.filter(device__user=grace).count() == 10


def test_a_recovery_code_counts_only_in_the_session_that_chose_it(staff, add_authenticator):
    add_authenticator(staff)
    codes = codes_for(staff)
    recovery_chosen(staff)  # another browser of Sam's chose it
    client = remembered(staff)
    # This session asks for the app's code: a recovery code is not taken as one.
    response = step_up_with(client, codes[0])
    assert "The code is 6 digits, like 123456." in page(response)
    assert client.get("/admin/").status_code == 302
    assert RecoveryCode.objects.count() == 10


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "admin:index"]
)
def test_the_recovery_code_step_up_goes_only_to_a_safe_next(staff, next_url):
    code = codes_for(staff)[0]
    client = remembered(staff)
    client.get("/signin/step-up/", {"next": next_url, "via": "recovery"})
    response = client.post(
        "/signin/step-up/?" + f"next={next_url}", {"code": code, "next": next_url}
    )
    assert response["Location"] == "/admin/"


def test_the_recovery_code_step_up_goes_on_to_a_safe_next(staff):
    code = codes_for(staff)[0]
    client = remembered(staff)
    page_ = page_html(client.get("/signin/step-up/", {"next": "/admin/accounts/user/"}))
    assert "/signin/step-up/?next=%2Fadmin%2Faccounts%2Fuser%2F&amp;via=recovery" in page_
    client.get("/signin/step-up/", {"next": "/admin/accounts/user/", "via": "recovery"})
    response = step_up_with(client, code, url="/signin/step-up/?next=/admin/accounts/user/")
    assert response["Location"] == "/admin/accounts/user/"


def test_the_recovery_code_step_up_needs_the_csrf_token(staff):
    code = codes_for(staff)[0]
    client = recovery_chosen(staff)
    client.handler.enforce_csrf_checks = True
    assert step_up_with(client, code).status_code == 403
    assert client.get("/admin/").status_code == 302
    assert RecoveryCode.objects.count() == 10


@pytest.mark.parametrize(("language", "subject", "sentence"), [
    ("fr", "Un code de récupération a servi à ouvrir Django admin depuis votre compte Backstage",
     "a servi à ouvrir Django admin depuis votre compte Backstage"),
    ("de", "Ein Wiederherstellungscode wurde verwendet, um von Ihrem Backstage-Konto aus "
     "Django admin zu öffnen", "aus Django admin zu öffnen"),
])
def test_the_step_up_email_says_what_the_code_opened_in_the_members_language(
    staff, django_capture_on_commit_callbacks, language, subject, sentence
):
    codes = codes_for(staff)
    client = recovery_chosen(staff)
    staff.language = language  # theirs, stored: the email's language
    staff.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert step_up_with(client, codes[0])["Location"] == "/admin/"
    [email] = mail.outbox
    assert email.subject == subject
    assert sentence in " ".join(email.body.split())
