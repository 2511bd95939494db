"""The rules of mfa.authenticator, function by function: the device, its key and QR code,
codes, and set-up."""

from base64 import b32decode
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.http import client_of
from mfa.authenticator import (
    AuthenticatorError,
    authenticator_device,
    authenticator_qr_svg,
    authenticator_secret,
    authenticator_setup_confirm,
    authenticator_setup_start,
    authenticator_verify,
    authenticators_delete,
)
from mfa.codes import CodeError


@pytest.fixture
def request_(rf: RequestFactory):
    return rf.post("/", REMOTE_ADDR="192.0.2.1")


@pytest.fixture
def setup(enrolled_member):
    """An app being set up by Ada, who has a phone."""
    return authenticator_setup_start(user=enrolled_member())


def test_new_device_is_six_digits_thirty_seconds_sha1_with_one_step_of_tolerance(setup):
    assert (setup.digits, setup.step, setup.t0, setup.tolerance) == (6, 30, 0, 1)
    assert not setup.confirmed
    assert len(setup.bin_key) == 20  # 160 bits, as RFC 4226 recommends
    url = urlsplit(setup.config_url)
    assert (url.scheme, url.netloc, unquote(url.path)) == (
        "otpauth", "totp", "/Backstage:ada@example.com"
    )
    query = parse_qs(url.query)
    assert query["issuer"] == ["Backstage"]
    assert (query["algorithm"], query["digits"], query["period"]) == (["SHA1"], ["6"], ["30"])
    assert b32decode(query["secret"][0]) == setup.bin_key


def test_key_is_shown_in_base32_in_groups_of_four(setup):
    key = authenticator_secret(setup)
    assert key.count(" ") == 7 and all(len(group) == 4 for group in key.split())
    assert b32decode(key.replace(" ", "")) == setup.bin_key


def test_qr_code_is_inline_svg_with_an_accessible_name_and_nothing_the_csp_refuses(setup):
    svg = str(authenticator_qr_svg(setup))
    assert svg.startswith(
        '<svg role="img" aria-label="QR code to scan with your authenticator app" viewBox='
    )
    assert svg.endswith("</svg>")
    for refused in ("style", "<script", "href", "<image", "<text", "<title"):
        assert refused not in svg
    # The key is drawn, not written.
    assert setup.key not in svg and authenticator_secret(setup).split()[0] not in svg


def test_set_up_needs_a_phone_first(make_member):
    with pytest.raises(AuthenticatorError) as refused:
        authenticator_setup_start(user=make_member())
    assert refused.value.code == "no_phone"
    assert not TOTPDevice.objects.exists()


def test_a_new_set_up_replaces_one_left_unfinished(setup):
    again = authenticator_setup_start(user=setup.user)
    assert list(TOTPDevice.objects.all()) == [again]
    assert again.key != setup.key


def test_a_member_with_an_app_removes_it_before_setting_up_another(setup, app_code, request_):
    authenticator_setup_confirm(device=setup, code=app_code(setup), **client_of(request_))
    with pytest.raises(AuthenticatorError) as refused:
        authenticator_setup_start(user=setup.user)
    assert refused.value.code == "already_set"
    assert TOTPDevice.objects.get().confirmed


def test_only_a_confirmed_device_is_the_members_app(setup, app_code, request_):
    assert authenticator_device(setup.user) is None
    authenticator_setup_confirm(device=setup, code=app_code(setup), **client_of(request_))
    assert authenticator_device(setup.user) == setup


def test_set_up_replaced_meanwhile_is_not_confirmed(setup, app_code, request_):
    # Another browser of Ada's started again between the code and the confirmation.
    TOTPDevice.objects.filter(pk=setup.pk).update(confirmed=True)
    with pytest.raises(AuthenticatorError) as refused:
        authenticator_setup_confirm(device=setup, code=app_code(setup), **client_of(request_))
    assert refused.value.code == "replaced"


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True),
                                                 (1, True), (2, False)])
def test_codes_are_accepted_one_step_either_side_of_the_clock(
    setup, app_code, request_, steps, accepted
):
    code = app_code(setup, steps=steps)
    if accepted:
        assert authenticator_verify(device=setup, code=code, **client_of(request_)) == setup
    else:
        with pytest.raises(CodeError) as refused:
            authenticator_verify(device=setup, code=code, **client_of(request_))
        assert refused.value.code == "wrong"


def test_a_code_is_used_once_and_so_is_any_older_one(setup, app_code, request_, clock):
    older = app_code(setup, steps=-1)
    authenticator_verify(device=setup, code=app_code(setup), **client_of(request_))
    setup.refresh_from_db()
    with pytest.raises(CodeError) as refused:
        authenticator_verify(device=setup, code=app_code(setup), **client_of(request_))
    assert refused.value.code == "reused"
    clock.advance(seconds=1)  # the back-off after a wrong code
    with pytest.raises(CodeError) as refused:
        authenticator_verify(device=setup, code=older, **client_of(request_))
    assert refused.value.code == "wrong"
    clock.advance(seconds=2)
    # The next step's code is new.
    assert authenticator_verify(device=setup, code=app_code(setup, steps=1), **client_of(request_))


def test_a_device_removed_meanwhile_refuses_the_code_without_an_error(
    setup, app_code, request_
):
    TOTPDevice.objects.filter(pk=setup.pk).delete()
    with pytest.raises(CodeError) as refused:
        authenticator_verify(device=setup, code=app_code(setup), **client_of(request_))
    assert refused.value.code == "removed"


def test_the_back_off_doubles_with_each_wrong_code_and_a_right_one_resets_it(
    setup, app_code, wrong_app_code, request_, clock, settings
):
    waits = []
    for _ in range(4):
        with pytest.raises(CodeError):
            authenticator_verify(device=setup, code=wrong_app_code(setup), **client_of(request_))
        setup.refresh_from_db()
        with pytest.raises(CodeError) as refused:
            authenticator_verify(device=setup, code=app_code(setup), **client_of(request_))
        waits.append(refused.value.message)
        clock.advance(seconds=10)
    assert settings.OTP_TOTP_THROTTLE_FACTOR == settings.MFA_THROTTLE_FACTOR == 1
    assert [message.split("Wait ")[1].split(" ")[0] for message in waits] == [
        "2", "3", "5", "9"  # 1, 2, 4 and 8 seconds, said rounded up
    ]
    authenticator_verify(device=setup, code=app_code(setup), **client_of(request_))
    setup.refresh_from_db()
    assert setup.throttling_failure_count == 0


def test_deleting_the_apps_of_a_member_says_whether_one_was_set_up(setup, make_member):
    assert authenticators_delete(user=setup.user) is False
    assert not TOTPDevice.objects.exists()
    assert authenticators_delete(user=make_member(email="grace@example.com")) is False
