"""core.limits: every limit in one shape, read from settings.LIMITS, and the words that the
pages build from the settings."""

import datetime
import html

import pytest
from django.conf import settings as django_settings

from core.limits import Limit, again_words, duration_words, limit, limit_reached
from mfa.models import SmsMessage
from tests.test_settings import manage

MINUTE, HOUR, DAY = (datetime.timedelta(minutes=1), datetime.timedelta(hours=1),
                     datetime.timedelta(days=1))


def test_every_limit_is_a_window_and_a_maximum():
    for name in django_settings.LIMITS:
        rule = limit(name)
        assert isinstance(rule.window, datetime.timedelta) and rule.window > datetime.timedelta(0)
        assert isinstance(rule.max, int) and rule.max > 0


def test_axes_reads_its_own_settings_derived_from_the_one_shape():
    pair = limit("SIGNIN_FAILURES_PER_EMAIL_AND_IP")
    assert (django_settings.AXES_FAILURE_LIMIT, django_settings.AXES_COOLOFF_TIME) == (
        pair.max, pair.window
    ) == (5, 15 * MINUTE)


def test_the_environment_variables_of_the_readme_still_tune_the_limits():
    result = manage(
        "shell", "-v", "0", "-c",
        "from django.conf import settings; from core.limits import limit; print("
        "limit('SIGNIN_FAILURES_PER_EMAIL_AND_IP').max, settings.AXES_FAILURE_LIMIT, "
        "limit('SIGNIN_FAILURES_PER_EMAIL').max, limit('SSO_STARTS_PER_IP').max, "
        "settings.INVITATION_VALID_FOR.days)",
        DEBUG="1", AXES_FAILURE_LIMIT="7", SIGNIN_FAILURES_PER_EMAIL="30",
        SSO_STARTS_PER_IP="50", INVITATION_VALID_DAYS="3",
    )
    assert result.stdout.split() == ["7", "7", "30", "50", "3"], result.stderr


def test_a_limit_is_reached_at_its_maximum_within_its_window():
    rule = Limit(window=HOUR, max=2)
    now = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
    assert rule.since(now) == now - HOUR
    assert not rule.reached(1)
    assert rule.reached(2)


@pytest.mark.django_db
def test_limit_reached_counts_only_the_rows_within_the_window(settings, make_user, clock):
    settings.LIMITS = {**settings.LIMITS, "SMS_PER_NUMBER_HOUR": {"window": HOUR, "max": 2}}
    user = make_user()
    rows = SmsMessage.objects.filter(to="+41791234567")
    SmsMessage.objects.create(user=user, to="+41791234567", created_at=clock.now - 2 * HOUR)
    SmsMessage.objects.create(user=user, to="+41791234567", created_at=clock.now - MINUTE)
    assert not limit_reached("SMS_PER_NUMBER_HOUR", rows)
    SmsMessage.objects.create(user=user, to="+41791234567", created_at=clock.now)
    assert limit_reached("SMS_PER_NUMBER_HOUR", rows)


def test_an_unknown_limit_is_a_bug_not_no_limit():
    with pytest.raises(KeyError):
        limit("SMS_PER_NOTHING")


@pytest.mark.parametrize(
    ("length", "words", "again"),
    [
        (MINUTE, "a minute", "in a minute"),
        (15 * MINUTE, "15 minutes", "in 15 minutes"),
        (90 * MINUTE, "90 minutes", "in 90 minutes"),
        (HOUR, "an hour", "in an hour"),
        (12 * HOUR, "12 hours", "in 12 hours"),
        (DAY, "24 hours", "tomorrow"),
        (14 * DAY, "14 days", "in 14 days"),
    ],
)
def test_durations_in_words(length, words, again):
    assert duration_words(length) == words
    assert again_words(length) == again


def test_one_unit_without_its_article_reads_after_the_last():
    assert f"in the last {duration_words(HOUR, article=False)}" == "in the last hour"
    assert f"in the last {duration_words(DAY, article=False)}" == "in the last 24 hours"


# The words on the pages, built from the settings -------------------------------------


def test_remember_me_says_14_days_with_the_default_setting(enrolled_member, sign_in, client):
    enrolled_member()
    sign_in()
    assert ">Remember me for 14 days</label>" in client.get("/signin/code/").content.decode()


def test_changing_how_long_browsers_are_remembered_changes_the_words(
    enrolled_member, sign_in, client, last_code, settings
):
    settings.MFA_REMEMBER_FOR = 30 * DAY
    enrolled_member()
    sign_in()
    code_page = client.get("/signin/code/").content.decode()
    assert ">Remember me for 30 days</label>" in code_page
    assert "14 days" not in code_page
    client.post("/signin/code/", {"code": last_code()})
    personal_settings = client.get("/settings/").content.decode()
    assert "<strong>Remember me for 30 days</strong>" in personal_settings
    assert "14 days" not in personal_settings
    assert "for 30 days." in client.get("/privacy/").content.decode()


def test_the_lockout_message_says_the_pause_that_the_settings_set(make_member, sign_in, settings):
    settings.LIMITS = {
        **settings.LIMITS,
        "SIGNIN_FAILURES_PER_EMAIL_AND_IP": {"window": 30 * MINUTE, "max": 5},
        "SIGNIN_FAILURES_PER_EMAIL": {"window": 30 * MINUTE, "max": 20},
    }
    settings.AXES_COOLOFF_TIME = 30 * MINUTE
    make_member()
    for _ in range(5):
        sign_in(password="wrong password")
    page = html.unescape(sign_in().content.decode())
    assert "signing in with this email is paused for 30 minutes." in page
