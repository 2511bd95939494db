"""Two sign-ins with one recovery code at the same moment: the database decides (PostgreSQL
row locks), and exactly one of them gets in."""

import pytest

from accounts.models import SecurityEvent
from mfa.codes import CodeError
from mfa.models import RecoveryCode, SmsDevice
from mfa.recovery import recovery_code_verify, recovery_codes_create
from tests.races import outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_one_code_used_twice_at_once_signs_in_once(make_member, attempt):
    ada = make_member()
    SmsDevice.objects.create(user=ada, number="+41791234567", confirmed=True)
    code = recovery_codes_create(user=ada, ip=None, user_agent="")[0]

    def use():
        recovery_code_verify(user=ada, code=code, ip=None, user_agent="")

    assert outcomes(use, use, error=CodeError) == ["ok", "wrong"]
    assert RecoveryCode.objects.filter(device__user=ada).count() == 9
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.RECOVERY_CODE_USED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reset_and_a_recovery_code_at_once_do_not_deadlock(make_member, make_organization):
    from organizations.members import MemberError, member_phone_reset
    from organizations.models import Membership

    acme = make_organization("Acme Events", slug="acme-events")
    grace = make_member("grace@example.com", organization=acme, role=Membership.Role.ADMIN)
    ada = make_member(organization=acme)
    SmsDevice.objects.create(user=ada, number="+41791234567", confirmed=True)
    code = recovery_codes_create(user=ada, ip=None, user_agent="")[0]

    def reset():
        member_phone_reset(actor=grace, member=ada, organization=acme)

    def use():
        recovery_code_verify(user=ada, code=code, ip=None, user_agent="")

    # Whichever went first, the reset happened and nothing is left to sign in with.
    assert "ok" in outcomes(reset, use, error=(CodeError, MemberError))
    assert not RecoveryCode.objects.filter(device__user=ada).exists()
    assert not SmsDevice.objects.filter(user=ada).exists()
