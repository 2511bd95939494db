"""mfa.factors: the member's other ways through the second-factor step, asked with the phone
in one query built once (core.compiled), must say what the models' own queries say."""

import itertools

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa.factors import Alternatives, pending_phone, signin_alternatives, signin_phone
from mfa.models import PasskeyDevice, RecoveryCode, RecoveryCodeDevice, SmsDevice

pytestmark = pytest.mark.django_db


def _orm_alternatives(user) -> Alternatives:
    return Alternatives(
        passkey=PasskeyDevice.objects.filter(user=user).exists(),
        authenticator=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        recovery_codes=RecoveryCode.objects.filter(device__user=user).exists(),
    )


def _give(user, *, passkey, app, codes):
    if passkey:
        PasskeyDevice.objects.create(
            user=user, name="Phone", credential_id=f"id-{user.pk}", public_key=b"",
            user_handle=f"h-{user.pk}",
        )
    if app:  # "unconfirmed": set up but its first code never entered, which doesn't count
        TOTPDevice.objects.create(user=user, name="App", confirmed=app == "confirmed")
    if codes:  # "used up": a device whose codes are all gone, which doesn't count
        device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes")
        if codes == "left":
            RecoveryCode.objects.create(device=device, digest="0" * 64)


COMBINATIONS = list(itertools.product(
    [False, True], [None, "unconfirmed", "confirmed"], [None, "used up", "left"]
))


@pytest.mark.parametrize(("passkey", "app", "codes"), COMBINATIONS)
def test_alternatives_say_what_the_models_say(make_member, passkey, app, codes):
    user = make_member()
    other = make_member(email="grace@example.com")  # whose factors must not count for `user`
    _give(other, passkey=True, app="confirmed", codes="left")
    _give(user, passkey=passkey, app=app, codes=codes)
    expected = _orm_alternatives(user)
    assert expected == Alternatives(
        passkey=passkey, authenticator=app == "confirmed", recovery_codes=codes == "left"
    )
    assert signin_alternatives(user) == expected
    assert signin_phone(user) == (None, expected)  # no phone: asked on their own

    phone = SmsDevice.objects.create(
        user=user, name="Mobile phone", number="+41791234567", confirmed=True
    )
    found, alternatives = signin_phone(user)
    assert (found, alternatives) == (phone, expected)
    assert found.user is user


def test_the_code_steps_phone_comes_with_its_member_and_their_other_factors(
    make_member, add_authenticator
):
    user = make_member()
    add_authenticator(user)
    assert pending_phone(user.pk, page=True) is None
    # A number waiting for its first code is where the code step's codes go; signin_phone,
    # the password step's, looks only for a phone on file.
    phone = SmsDevice.objects.create(
        user=user, name="Mobile phone", confirmed=False, pending_number="+41791234567"
    )
    assert signin_phone(user)[0] is None
    found = pending_phone(user.pk, page=True)
    assert found == phone and found.user == user
    assert found.alternatives == Alternatives(
        passkey=False, authenticator=True, recovery_codes=False
    )
    assert not hasattr(pending_phone(user.pk, page=False), "alternatives")
    user.is_active = False
    user.save()
    assert pending_phone(user.pk, page=True) is None  # nobody's sign-in any more


def test_one_query_for_the_code_steps_member_phone_and_factors(
    enrolled_member, django_assert_num_queries
):
    user = enrolled_member()
    with django_assert_num_queries(1):
        assert pending_phone(user.pk, page=True).user.email == user.email


def test_one_query_for_a_member_with_a_phone(enrolled_member, django_assert_num_queries):
    user = enrolled_member()
    with django_assert_num_queries(1):
        signin_phone(user)
