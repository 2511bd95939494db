"""The names we give devices (mfa.device_names): stored in English, shown in the reader's
language; a name a member typed stays as typed."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from phonenumber_field.phonenumber import PhoneNumber

from mfa.authenticator import authenticator_setup_start
from mfa.models import PasskeyDevice, RecoveryCodeDevice, SmsDevice
from mfa.recovery import recovery_codes_create
from mfa.services import first_phone_code_request, phone_code_request
from tests.helpers import page as text
from tests.helpers import signed_in

# The reader's language -> the name of each device we make, in it.
NAMES = {
    "en": {"phone": "Mobile phone", "app": "Authenticator app", "codes": "Recovery codes"},
    "fr": {
        "phone": "Téléphone mobile",
        "app": "Application d\u2019authentification",
        "codes": "Codes de récupération",
    },
    "de": {"phone": "Mobiltelefon", "app": "Authenticator-App", "codes": "Wiederherstellungscodes"},
}
TRANSLATED = ["fr", "de"]


@pytest.fixture
def support(make_user):
    """Django admin in the browser of support staff who read it in `language`."""

    def browser(language):
        staff = make_user("support@backstage.test", is_staff=True, is_superuser=True,
                          language=language)
        return signed_in(staff, method="sms")

    return browser


@pytest.fixture
def ada(make_member):
    """A member with each device we name: phone, authenticator app and recovery codes, made
    by the services as the pages make them, in French (the language of the requests)."""
    user = make_member("ada@example.com")
    with translation.override("fr"):
        first_phone_code_request(
            user=user, device=None, number=PhoneNumber.from_string("+41791234567"),
            attempt="a", ip=None,
        )
        SmsDevice.objects.filter(user=user).update(confirmed=True, number="+41791234567",
                                                   pending_number="")
        authenticator_setup_start(user=user)
        recovery_codes_create(user=user, ip=None, user_agent="")
    return user


def test_the_names_are_stored_in_english_whatever_the_language_they_were_made_in(ada):
    assert SmsDevice.objects.get(user=ada).name == "Mobile phone"
    assert TOTPDevice.objects.get(user=ada).name == "Authenticator app"
    assert RecoveryCodeDevice.objects.get(user=ada).name == "Recovery codes"


def test_a_phone_changed_in_settings_is_named_in_english_too(make_user):
    user = make_user()
    with translation.override("de"):
        phone_code_request(
            user=user, number=PhoneNumber.from_string("+41791234567"), attempt="a", ip=None
        )
    assert SmsDevice.objects.get(user=user).name == "Mobile phone"


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_the_phone_shows_in_the_readers_language_in_admin(support, ada, language):
    device = SmsDevice.objects.get(user=ada)

    page = text(support(language).get(f"/admin/mfa/smsdevice/{device.pk}/change/"))

    name = NAMES[language]["phone"]
    assert f"{name} (ada@example.com)" in page  # the title and the breadcrumbs
    assert f'<div class="readonly">{name}</div>' in page  # the name field
    if language != "en":
        assert "Mobile phone" not in page


@pytest.mark.parametrize("language", TRANSLATED)
def test_remove_user_phone_names_the_phone_in_the_readers_language(support, ada, language):
    device = SmsDevice.objects.get(user=ada)

    page = text(support(language).post("/admin/mfa/smsdevice/", {
        "action": "remove_user_phone", ACTION_CHECKBOX_NAME: [device.pk],
    }))

    assert f"<li>{NAMES[language]['phone']} (ada@example.com)</li>" in page
    assert "Mobile phone" not in page
    assert SmsDevice.objects.filter(user=ada).exists()  # only asked, not done


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_the_authenticator_app_shows_in_the_readers_language_in_admin(support, ada, language):
    browser = support(language)
    device = TOTPDevice.objects.get(user=ada)

    listing = text(browser.get("/admin/otp_totp/totpdevice/"))
    view = text(browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/"))

    name = NAMES[language]["app"]
    assert f'<td class="field-app_name">{name}</td>' in listing
    assert f"{name} (ada@example.com)" in view
    assert f'<div class="readonly">{name}</div>' in view


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_recovery_codes_show_in_the_readers_language_in_admin(support, ada, language):
    device = RecoveryCodeDevice.objects.get(user=ada)

    page = text(support(language).get(f"/admin/mfa/recoverycodedevice/{device.pk}/change/"))

    assert f"{NAMES[language]['codes']} (ada@example.com)" in page


@pytest.mark.parametrize("stored", ["fr", "de"])
@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_an_app_and_codes_stored_translated_before_show_in_the_readers_language(
    make_user, stored, language
):
    # Before, the app and the recovery codes were named in the language of the request that
    # made them: those names are ours too, and read in the reader's language.
    user = make_user()
    app = TOTPDevice.objects.create(user=user, name=NAMES[stored]["app"])
    codes = RecoveryCodeDevice.objects.create(user=user, name=NAMES[stored]["codes"])

    with translation.override(language):
        assert str(app) == f"{NAMES[language]['app']} (ada@example.com)"
        assert str(codes) == f"{NAMES[language]['codes']} (ada@example.com)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_name_a_member_typed_stays_as_typed(make_user, language):
    user = make_user()
    # A passkey's name is the member's, even when it reads like one of ours.
    passkey = PasskeyDevice.objects.create(
        user=user, name="Mobile phone", credential_id="id-1", public_key=b"", user_handle="h-1",
    )
    # And a device of ours named otherwise (by support in a shell, say) keeps that name.
    phone = SmsDevice.objects.create(user=user, name="Ada's work phone", confirmed=False)

    with translation.override(language):
        assert str(passkey) == "Mobile phone (ada@example.com)"
        assert str(phone) == "Ada's work phone (ada@example.com)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_personal_settings_show_no_english_device_name(ada, language):
    # The page names the phone, the app and the codes in its own words, never by the
    # stored names; a passkey by the name its member gave it.
    ada.language = language
    ada.save(update_fields=["language"])

    page = text(signed_in(ada).get("/settings/"))

    assert NAMES[language]["app"] in page
    for english in NAMES["en"].values():
        assert english not in page
