"""What a person does in the browser, step by step, in the words the pages show."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD


def label(text: str) -> re.Pattern:
    """A field's label, exactly: Django writes "Password:" and "Password again:"."""
    return re.compile(rf"^{re.escape(text)}:?$")


def sign_in(person, email: str, password: str = PASSWORD, *, check: str | None = None) -> Page:
    page = person.page
    person.goto("/signin/")
    if check:
        person.check(check)
    page.get_by_label(label("Email")).fill(email)
    page.get_by_label(label("Password")).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    return page


def signed_in(person, user) -> Page:
    """Skip the sign-in journey (other tests walk it): a session cookie for `user`."""
    client = Client()
    client.force_login(user, backend="accounts.backends.EmailBackend")
    person.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": urlsplit(person.base_url).hostname,
                "path": "/",
                "secure": settings.SESSION_COOKIE_SECURE,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    person.goto("/")
    return person.page


def search_countries(page: Page, search: str, iso2: str) -> None:
    """Click the globe (or flag) and search the list until `iso2` is the first match."""
    page.locator(".iti__selected-country").click()
    box = page.get_by_role("combobox", name="Search by country or code")
    box.fill(search)
    # The list filters a moment after typing; a person looks before they click.
    expect(box).to_have_attribute("aria-activedescendant", re.compile(rf"__item-{iso2}$"))


def choose_country(page: Page, search: str, iso2: str) -> None:
    """Click the globe (or flag), search the list, pick the first match: `iso2`."""
    search_countries(page, search, iso2)
    page.locator(f"li.iti__country[data-iso2={iso2}]").click()
    expect_flag(page, iso2)


def expect_globe(page: Page) -> None:
    expect(page.locator(".iti__selected-country .iti__globe")).to_be_visible()
    expect(page.get_by_role("button", name="Choose the country of your number")).to_be_visible()


def expect_flag(page: Page, iso2: str) -> None:
    expect(page.locator(f".iti__selected-country .iti__flag.iti__{iso2}")).to_be_visible()
    expect(page.locator(".iti__selected-country .iti__globe")).to_have_count(0)


def enter_code(person, sms_inbox, *, remember: bool, check: str | None = None) -> None:
    page = person.page
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    if check:
        person.check(check)
    page.get_by_label(label("Code")).fill(sms_inbox.last_code())
    if remember:
        page.get_by_label("Remember me for 14 days").check()
    page.get_by_role("button", name="Continue").click()


def expect_home(page: Page, first_name: str) -> None:
    expect(page.get_by_role("heading", name=f"Welcome, {first_name}")).to_be_visible()


def sign_out(page: Page) -> None:
    """The initials at the bottom left open the menu that holds Sign out."""
    page.locator(".account-button").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Log in to Backstage")).to_be_visible()


def expect_focus_visible(page: Page) -> None:
    """The focused element shows it: it matches :focus-visible and draws an outline."""
    shown = page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return "nothing is focused";
            const style = getComputedStyle(el);
            const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            if (el.matches(":focus-visible") && (outlined || style.boxShadow !== "none")) return "";
            return `${el.outerHTML.slice(0, 120)} has no visible focus`;
        }"""
    )
    assert not shown, shown


def tab_to(page: Page, locator, *, most: int = 12) -> None:
    """Press Tab until `locator` has focus, checking that every stop shows its focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        expect_focus_visible(page)
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} not reached with {most} presses of Tab")


def expect_labelled_cards(table) -> None:
    """At a phone's width a table's rows are cards, its header row out of sight: every
    value shows its column's name (an actions column, whose buttons name themselves and
    whose heading is only for screen readers, needs none)."""
    problems = table.evaluate(
        """table => {
            const headings = [...table.tHead.rows[0].cells];
            const rows = [...table.tBodies[0].rows].filter(row => row.cells.length > 1);
            if (!rows.length) return ["no rows to look at"];
            if (table.tHead.getBoundingClientRect().height > 1) return ["the header row shows"];
            const problems = [];
            for (const row of rows) {
                if (getComputedStyle(row).display !== "block") problems.push("rows are not cards");
                [...row.cells].forEach((cell, index) => {
                    const heading = headings[index];
                    if (heading.querySelector(".visually-hidden")) return;
                    const name = heading.textContent.trim();
                    const shown = getComputedStyle(cell, "::before").content;
                    if (shown !== JSON.stringify(name)) {
                        problems.push(`"${cell.textContent.trim()}" shows ${shown}, not "${name}"`);
                    }
                });
            }
            return problems;
        }"""
    )
    assert not problems, "\n".join(problems)


def confirm_password(person, *, check: str | None = "confirm-password") -> None:
    """Confirm your password, as a security change asks when the password was not given in
    the last few minutes (accounts.reauth)."""
    page = person.page
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    if check:
        person.check(check)
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
