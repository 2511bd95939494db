"""Wrong codes slow down the sign-in attempt they were typed in, and a larger cap per member
bounds them all (issue 10 item 4; SECURITY 12, 13).

Someone who has the member's password signs in from another browser and types wrong codes:
that must not keep the member's own fresh code from working for more than a moment.
"""

import functools

import pytest
from django.test import Client

from core.limits import limit
from mfa import sms
from mfa.codes import CodeError, code_send, code_verify
from mfa.models import SmsDevice
from tests import races
from tests.helpers import page

CODE_PAGE = "/signin/code/"
WRONG = "That code isn't right."
THROTTLED = "Too many wrong codes. Wait"
CAPPED = (
    "Too many wrong codes were entered for your account. For your security, codes are "
    "paused: try again in an hour."
)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def enter(client, code):
    return client.post(CODE_PAGE, {"code": code})


def test_the_cap_is_twenty_wrong_codes_in_a_row_within_an_hour(settings):
    rule = limit("SMS_CODE_FAILURES_PER_USER")
    assert (rule.max, rule.window.total_seconds()) == (20, 3600)
    assert settings.MFA_CODE_MAX_FAILURES == 5 and settings.MFA_THROTTLE_FACTOR == 1


def test_wrong_codes_in_another_session_neither_slow_down_nor_kill_the_members_code(
    enrolled_member, sign_in, last_code
):
    enrolled_member()
    member, attacker = Client(), Client()
    sign_in(client=member)
    code = last_code()
    # The attacker arrives during the cooldown: no code is sent for their attempt.
    sign_in(client=attacker)
    assert len(sms.outbox) == 1
    for step in range(1, 11):
        assert WRONG in page(enter(attacker, f"{(int(code) + step) % 1_000_000:06d}"))

    assert enter(member, code)["Location"] == "/"


def test_the_attackers_own_code_backs_off_only_their_attempt(
    enrolled_member, sign_in, last_code, clock
):
    enrolled_member()
    attacker, member = Client(), Client()
    sign_in(client=attacker)
    for _ in range(3):
        enter(attacker, wrong(last_code()))
    assert THROTTLED in page(enter(attacker, last_code()))

    clock.advance(seconds=31)  # the resend cooldown, no more
    sign_in(client=member)
    assert enter(member, last_code())["Location"] == "/"


def test_a_new_code_for_the_same_attempt_keeps_its_back_off(
    enrolled_member, sign_in, client, last_code, clock
):
    user = enrolled_member()
    sign_in()
    for _ in range(4):
        enter(client, wrong(last_code()))
        clock.advance(seconds=9)
    clock.advance(seconds=31)
    client.post("/signin/code/resend/")
    enter(client, wrong(last_code()))  # the fifth of this attempt: 16 seconds now
    clock.advance(seconds=9)
    assert THROTTLED in page(enter(client, last_code()))
    clock.advance(seconds=8)
    assert enter(client, last_code())["Location"] == "/"
    assert SmsDevice.objects.get(user=user).throttling_failure_count == 0


def test_the_members_cap_holds_across_attempts_and_resends_for_an_hour(
    enrolled_member, sign_in, last_code, clock
):
    user = enrolled_member()
    # Four attempts, each with its own code and five wrong guesses (which kill that code),
    # waiting out each back-off: twenty wrong codes in a row.
    for _ in range(4):
        attacker = Client()
        sign_in(client=attacker)
        for guess in range(5):
            answer = page(enter(attacker, wrong(last_code())))
            assert (WRONG if guess < 4 else "This code can no longer be used.") in answer
            clock.advance(seconds=20)
        clock.advance(seconds=31)
    assert SmsDevice.objects.get(user=user).throttling_failure_count == 20

    member = Client()
    sign_in(client=member)
    assert CAPPED in page(enter(member, last_code()))
    assert "_auth_user_id" not in member.session

    clock.advance(hours=1)
    member = Client()
    sign_in(client=member)
    assert enter(member, last_code())["Location"] == "/"


def test_wrong_codes_further_apart_than_the_window_do_not_add_up(
    enrolled_member, last_code, clock
):
    device = SmsDevice.objects.get(user=enrolled_member())
    SmsDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=19, throttling_failure_timestamp=clock.now
    )
    clock.advance(hours=1, seconds=1)
    code_send(device=device, attempt="a", to=device.number, ip=None)
    with pytest.raises(CodeError) as raised:
        code_verify(device=device, attempt="a", code=wrong(last_code()), ip=None, user_agent="")
    assert raised.value.code == "wrong"
    assert SmsDevice.objects.get(pk=device.pk).throttling_failure_count == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_wrong_codes_at_once_are_all_counted(enrolled_member, last_code):
    device = SmsDevice.objects.get(user=enrolled_member())
    code_send(device=device, attempt="a", to=device.number, ip=None)
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != last_code()][:4]

    def verify(guess):
        code_verify(device=device, attempt="a", code=guess, ip=None, user_agent="")

    outcomes = races.outcomes(
        *(functools.partial(verify, guess) for guess in guesses), error=CodeError
    )
    # One wrong code counted, the others refused by the back-off it started.
    assert outcomes == ["throttled", "throttled", "throttled", "wrong"]
    device.refresh_from_db()
    assert (device.throttling_failure_count, device.attempt_failures) == (1, 1)
