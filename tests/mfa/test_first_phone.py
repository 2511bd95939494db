"""The sign-in's phone step gives a first phone only: a member with a phone on file never gets
a code to a new number from it (that would change their phone without re-authentication;
personal settings do that, SPEC journey 7). One read of the member's device serves both the
question and the code, so the write itself checks again (mfa.codes.code_prepare's
first_phone)."""

import pytest
from django.test import Client
from phonenumber_field.phonenumber import PhoneNumber

from accounts.models import SecurityEvent
from core.limits import limit
from mfa import sms
from mfa.codes import CodeError
from mfa.models import SmsDevice, SmsMessage
from mfa.sending import SmsNotAllowed
from mfa.services import first_phone_code_request, member_device, phone_confirm
from tests.conftest import PASSWORD
from tests.races import outcomes

PHONE_PAGE = "/signin/phone/"
NEW_NUMBER = PhoneNumber.from_string("+41787654321")


def test_a_member_with_a_phone_on_file_gets_no_code_to_a_new_number_from_the_phone_page(
    enrolled_member, sign_in, client
):
    user = enrolled_member()
    sign_in()
    sms.outbox.clear()
    assert client.get(PHONE_PAGE)["Location"] == "/signin/code/"
    response = client.post(PHONE_PAGE, {"country": "CH", "number": "078 765 43 21"})
    assert response["Location"] == "/signin/code/"
    assert sms.outbox == []
    device = SmsDevice.objects.get(user=user)
    assert (device.number, device.pending_number) == ("+41791234567", "")


def test_a_phone_confirmed_after_the_page_read_the_device_gets_no_new_number(make_member):
    # The member's other tab confirmed its phone between this request's read and its write.
    user = make_member()
    device = SmsDevice.objects.create(user=user, name="Mobile phone", confirmed=False)
    read = member_device(user)
    device.number, device.confirmed = "+41791234567", True
    device.save()

    sent = first_phone_code_request(
        user=user, device=read, number=NEW_NUMBER, attempt="a", ip="192.0.2.1"
    )

    assert sent is False
    device.refresh_from_db()
    assert (device.number, device.pending_number, device.token) == ("+41791234567", "", None)
    assert sms.outbox == [] and not SmsMessage.objects.exists()


def test_a_device_made_meanwhile_by_another_request_is_the_one_the_code_goes_to(make_member):
    # This request read no device; another request of the member made one just after.
    user = make_member()
    theirs = SmsDevice.objects.create(user=user, name="Mobile phone", confirmed=False)

    sent = first_phone_code_request(
        user=user, device=None, number=NEW_NUMBER, attempt="a", ip="192.0.2.1"
    )

    assert sent is True
    assert list(SmsDevice.objects.filter(user=user)) == [theirs]
    theirs.refresh_from_db()
    assert theirs.pending_number == NEW_NUMBER and not theirs.confirmed
    assert sms.outbox[-1].to == str(NEW_NUMBER)


def test_a_phone_confirmed_meanwhile_by_another_request_that_made_it_gets_no_new_number(
    enrolled_member,
):
    user = enrolled_member()  # made and confirmed since this request read no device
    sent = first_phone_code_request(
        user=user, device=None, number=NEW_NUMBER, attempt="a", ip="192.0.2.1"
    )
    assert sent is False
    assert SmsDevice.objects.get(user=user).pending_number == ""
    assert sms.outbox == []


def test_a_refused_text_leaves_no_device_behind(make_member, make_user):
    user = make_member()
    most = limit("SMS_PER_NUMBER_HOUR").max
    other = make_user("grace@example.com")
    SmsMessage.objects.bulk_create([SmsMessage(user=other, to=NEW_NUMBER) for _ in range(most)])

    with pytest.raises(SmsNotAllowed) as refused:
        first_phone_code_request(
            user=user, device=None, number=NEW_NUMBER, attempt="a", ip="192.0.2.1"
        )

    assert refused.value.code == "limit-number"
    assert not SmsDevice.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_phone_confirm_reads_the_row_again_when_its_lock_is_no_longer_held(make_member):
    # locked=True outside a transaction: the lock that code_verify took is gone, so the row
    # is read again, and an admin's removal meanwhile is seen.
    user = make_member()
    device = SmsDevice.objects.create(
        user=user, name="Mobile phone", confirmed=False, pending_number="+41791234567"
    )
    device.user = user
    SmsDevice.objects.filter(pk=device.pk).delete()

    with pytest.raises(CodeError) as refused:
        phone_confirm(device=device, ip=None, user_agent="", locked=True)

    assert refused.value.code == "removed"
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PHONE_SET).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_asking_for_a_first_phone_at_once_make_one_device_and_send_one_code(
    make_member,
):
    make_member()
    tabs = [Client(raise_request_exception=False) for _ in range(2)]
    for tab in tabs:
        assert tab.post("/signin/", {"email": "ada@example.com", "password": PASSWORD})[
            "Location"] == PHONE_PAGE

    def post_number(tab, number):
        response = tab.post(PHONE_PAGE, {"country": "CH", "number": number})
        assert response.status_code < 500
        return response

    responses = outcomes(
        lambda: post_number(tabs[0], "079 123 45 67"),
        lambda: post_number(tabs[1], "078 765 43 21"),
        error=(),
    )

    assert responses == ["ok", "ok"]
    assert SmsDevice.objects.count() == 1
    # One code went out; the other tab was told to wait for the cooldown.
    assert len(sms.outbox) == SmsMessage.objects.count() == 1
    device = SmsDevice.objects.get()
    assert device.pending_number == sms.outbox[0].to and not device.confirmed
