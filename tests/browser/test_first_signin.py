"""The first sign-in in a real browser: invitation email, password, phone, code, home page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.invitations import invitation_create
from mfa.forms import country_choices
from mfa.models import SmsDevice
from organizations.models import Workspace
from tests.browser.steps import (
    choose_country,
    enter_code,
    expect_flag,
    expect_focus_visible,
    expect_globe,
    expect_home,
    label,
    search_countries,
    sign_in,
    sign_out,
    tab_to,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern quietly orbit 42"


def test_from_the_invitation_email_to_the_home_page(
    person, email_inbox, sms_inbox, make_organization
):
    acme = make_organization(name="Acme Events")
    Workspace.objects.create(organization=acme, name="Spring Summit 2025", slug="spring-summit")
    Workspace.objects.create(organization=acme, name="Partner Day", slug="partner-day")
    invitation_create(email="grace@example.com", organization=acme)
    page = person.page

    # The email, opened like a mail client would show it; its button leads to the site.
    invitation = email_inbox.last_to("grace@example.com")
    page.set_content(invitation.get_body(preferencelist=("html",)).get_content())
    page.get_by_role("link", name="Log in to Backstage").click()

    expect(page.get_by_role("heading", name="Create your password")).to_be_visible()
    person.check("invitation")
    # Nothing filled in: every mistake is listed at the top and beside its field.
    page.get_by_role("button", name="Confirm account").click()
    expect(page.locator(".error-summary")).to_be_visible()
    person.check("invitation-error")
    page.get_by_label(label("Full name")).fill("Grace Hopper")
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_label(label("Password again")).fill(NEW_PASSWORD)
    page.get_by_label("I accept the privacy policy").check()
    page.get_by_role("button", name="Confirm account").click()

    # The sign-in page, with the email filled in.
    expect(page.get_by_role("status")).to_contain_text("Your account has been created")
    expect(page.get_by_label(label("Email"))).to_have_value("grace@example.com")
    person.check("signin-account-created")
    assert "created" in email_inbox.last_to("grace@example.com")["Subject"]
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    # The phone: a globe left of the empty field, a searchable list, then the flag.
    expect(page.get_by_role("heading", name="Your mobile phone")).to_be_visible()
    expect_globe(page)
    person.check("phone")
    search_countries(page, "Swi", "ch")
    expect(page.get_by_role("option", name="Switzerland (+41)")).to_be_visible()
    # The open list is drawn for the width it opened at; the phone-sized one has its own test.
    person.check("phone-search", widths=(1440,))
    page.get_by_role("option", name="Switzerland (+41)").click()
    expect_flag(page, "ch")
    page.get_by_label(label("Mobile number")).fill("079 123 45 67")
    person.check("phone-chosen")
    page.get_by_role("button", name="Send a code").click()

    assert sms_inbox.messages()[-1].startswith("To: +41791234567\n")
    enter_code(person, sms_inbox, remember=False, check="code")

    expect_home(page, "Grace")
    expect(page.locator(".workspaces")).to_contain_text("Spring Summit 2025")
    person.check("home")
    device = SmsDevice.objects.get(user__email="grace@example.com")
    assert (str(device.number), device.confirmed) == ("+41791234567", True)

    sign_out(page)


def test_the_picker_offers_exactly_the_countries_of_the_server(person, make_member):
    make_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com")
    expect_globe(page)

    offered = page.locator("li.iti__country").evaluate_all(
        "items => items.map(i => i.dataset.iso2)"
    )
    assert sorted(offered) == sorted(code.lower() for code, _ in country_choices())
    # The plain list that the picker replaces is the same list (and the no-JS fallback).
    listed = page.locator("select[name=country] option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)"
    )
    assert listed == [code for code, _ in country_choices()]


def test_mistakes_are_explained_and_search_finds_a_country_by_its_calling_code(
    person, make_member, sms_inbox
):
    make_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com")

    # Nothing typed: the error is beside the field and, as a link to it, at the top.
    page.get_by_role("button", name="Send a code").click()
    number = page.get_by_label(label("Mobile number"))
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_number_error")).to_have_text("Enter your mobile number.")
    expect(number).to_have_attribute("aria-describedby", "id_number_error")
    page.locator(".error-summary").get_by_role("link").click()
    expect(number).to_be_focused()

    # A number that does not exist in the chosen country.
    choose_country(page, "Switzerland", "ch")
    number.fill("12")
    page.get_by_role("button", name="Send a code").click()
    expect(page.locator(".error-summary")).to_contain_text("valid number for Switzerland")
    expect_flag(page, "ch")  # the picker comes back with the country chosen
    person.check("phone-error")

    choose_country(page, "+44", "gb")
    number.fill("07400 123456")
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert sms_inbox.messages()[-1].startswith("To: +447400123456\n")


def test_the_number_is_formatted_as_it_is_typed_without_the_trunk_zero(
    person, make_member, sms_inbox
):
    make_member(email="ada@example.com")
    page = sign_in(person, "ada@example.com")
    number = page.get_by_label(label("Mobile number"))

    # Typed before a country is chosen: formatted once it is.
    number.press_sequentially("0791234567")
    choose_country(page, "Switzerland", "ch")
    expect(number).to_have_value("79 123 45 67")

    # Typed the way it is written at home: the field shows it the international way,
    # beside +41, in Switzerland's groups.
    number.fill("")
    number.press_sequentially("079 123 45 67")
    expect(number).to_have_value("79 123 45 67")
    expect(page.locator(".iti__selected-dial-code")).to_have_text("+41")
    person.check("phone-formatted")

    # Pasted, as from a contact card: the same.
    number.fill("")
    person.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("navigator.clipboard.writeText('079 123 45 67')")
    number.focus()
    page.keyboard.press("ControlOrMeta+V")
    expect(number).to_have_value("79 123 45 67")

    # Another country, its own groups.
    number.fill("")
    choose_country(page, "+44", "gb")
    number.press_sequentially("07400123456")
    expect(number).to_have_value("7400 123456")
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert sms_inbox.messages()[-1].startswith("To: +447400123456\n")


@pytest.mark.parametrize("spelling", ["079 123 45 67", "+41 79 123 45 67"])
def test_enrollment_works_without_javascript(open_browser, make_member, sms_inbox, spelling):
    make_member(email="ada@example.com")
    person = open_browser(javascript=False)
    page = sign_in(person, "ada@example.com")

    page.get_by_label(label("Country")).select_option(label="Switzerland (+41)")
    page.get_by_label(label("Mobile number")).fill(spelling)
    page.get_by_role("button", name="Send a code").click()
    enter_code(person, sms_inbox, remember=False)

    expect_home(page, "Ada")
    device = SmsDevice.objects.get(user__email="ada@example.com")
    assert (str(device.number), device.confirmed) == ("+41791234567", True)


def test_sign_in_phone_and_code_with_the_keyboard_alone(person, make_member, sms_inbox):
    make_member(email="ada@example.com")
    page, keyboard = person.page, person.page.keyboard
    person.goto("/signin/")

    expect(page.get_by_label(label("Email"))).to_be_focused()
    keyboard.type("ada@example.com")
    tab_to(page, page.get_by_label(label("Password")))
    keyboard.type(PASSWORD)
    keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Your mobile phone")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Choose the country of your number"))
    keyboard.press("Enter")
    search = page.get_by_role("combobox", name="Search by country or code")
    expect(search).to_be_focused()
    keyboard.type("Switz")
    # Enter once the list shows the match highlighted, as a person would wait to see it.
    expect(search).to_have_attribute("aria-activedescendant", re.compile(r"__item-ch$"))
    keyboard.press("Enter")
    expect_flag(page, "ch")
    mobile = page.get_by_label(label("Mobile number"))
    if not mobile.evaluate("el => el === document.activeElement"):
        tab_to(page, mobile)
    keyboard.type("079 123 45 67")
    keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.get_by_label(label("Code"))).to_be_focused()
    keyboard.type(sms_inbox.last_code())
    tab_to(page, page.get_by_label("Remember me for 14 days"))
    keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Continue"))
    expect_focus_visible(page)
    keyboard.press("Enter")

    expect_home(page, "Ada")


def test_on_a_phone_sized_screen_the_list_fills_the_screen(open_browser, make_member):
    make_member(email="ada@example.com")
    person = open_browser(width=375)
    page = sign_in(person, "ada@example.com")

    # Before typing, the search box shows all of what it is for.
    page.locator(".iti__selected-country").click()
    box = page.get_by_role("combobox", name="Search by country or code")
    expect(box).to_be_focused()
    assert box.get_attribute("placeholder") == "Search by country or code"
    cut_off = box.evaluate(
        """box => {
            const style = getComputedStyle(box);
            const context = document.createElement("canvas").getContext("2d");
            context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = box.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            const needed = context.measureText(box.placeholder).width;
            return needed > room ? `${needed} px of placeholder in ${room} px` : "";
        }"""
    )
    assert not cut_off, cut_off
    person.check("phone-search-empty", widths=(375,))
    page.keyboard.press("Escape")

    search_countries(page, "41", "ch")
    person.check("phone-search", widths=(375,))
    page.get_by_role("option", name="Switzerland (+41)").click()
    expect_flag(page, "ch")
