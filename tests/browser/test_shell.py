"""The signed-in shell: the sidebar of organizations and workspaces, the initials menu."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from playwright.sync_api import expect

from backstage.context_processors import sidebar
from organizations.models import Membership, Organization, Workspace
from tests.browser.steps import expect_focus_visible, signed_in, tab_to


@pytest.fixture
def member_of_two(make_member):
    """Ada: admin of Acme Events (two workspaces), member of Northwind (none yet)."""
    acme = Organization.objects.create(name="Acme Events", slug="acme-events")
    Workspace.objects.create(organization=acme, name="Spring Summit 2025", slug="spring-summit")
    Workspace.objects.create(organization=acme, name="Partner Day", slug="partner-day")
    northwind = Organization.objects.create(name="Northwind", slug="northwind")
    ada = make_member(email="ada@example.com", organization=acme, role=Membership.Role.ADMIN)
    Membership.objects.create(user=ada, organization=northwind)
    return ada


@pytest.mark.browser
def test_the_sidebar_lists_the_members_organizations_and_workspaces(person, member_of_two):
    page = signed_in(person, member_of_two)

    nav = page.get_by_role("navigation", name="Organizations and workspaces")
    acme = nav.get_by_role("list", name="Acme Events")
    expect(acme.get_by_role("listitem")).to_contain_text(
        ["Partner Day", "Spring Summit 2025", "Enterprise login"]
    )
    expect(nav.get_by_role("list", name="Northwind")).to_contain_text("No workspaces yet")
    person.check("home-two-organizations")

    # An admin reaches their organization's pages from the sidebar.
    acme.get_by_role("link", name="Enterprise login").click()
    expect(page.get_by_role("heading", name="Enterprise login")).to_be_visible()
    expect(acme.get_by_role("link", name="Enterprise login")).to_have_attribute(
        "aria-current", "page"
    )
    person.check("enterprise-login-settings")


@pytest.mark.browser
def test_the_initials_bottom_left_open_the_menu_with_the_name_and_sign_out(person, member_of_two):
    page = signed_in(person, member_of_two)

    initials = page.locator(".account-button")
    expect(initials).to_contain_text("AL")
    box = initials.bounding_box()
    assert box["x"] < 100 and box["y"] > page.viewport_size["height"] - 120, box

    # With the keyboard: the initials take focus visibly and Enter opens the menu.
    tab_to(page, initials, most=20)
    page.keyboard.press("Enter")
    menu = page.locator(".account-panel")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("Ada Lovelace")
    expect(menu).to_contain_text("ada@example.com")
    person.check("account-menu")

    # The name leads to personal settings.
    tab_to(page, menu.get_by_role("link", name="Ada Lovelace"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Personal settings")).to_be_visible()
    person.check("settings")

    page.locator(".account-button").click()
    tab_to(page, page.get_by_role("button", name="Sign out", exact=True))
    expect_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log in to Backstage")).to_be_visible()


@pytest.mark.browser
def test_the_menu_opens_and_signs_out_without_javascript(open_browser, member_of_two):
    person = open_browser(javascript=False, width=375)
    page = signed_in(person, member_of_two)

    page.get_by_text("AL", exact=True).click()
    person.check("account-menu-no-javascript", widths=(375,))
    page.get_by_role("button", name="Sign out", exact=True).click()

    expect(page.get_by_role("heading", name="Log in to Backstage")).to_be_visible()


def test_the_sidebar_costs_one_query_and_only_for_a_signed_in_member(
    member_of_two, django_assert_num_queries
):
    request = RequestFactory().get("/")
    request.user = member_of_two
    organizations = sidebar(request)["sidebar_organizations"]
    with django_assert_num_queries(1):
        drawn = [
            (organization.name, organization.is_admin, [w["name"] for w in organization.workspaces])
            for organization in organizations
        ]
    assert drawn == [
        ("Acme Events", True, ["Partner Day", "Spring Summit 2025"]),
        ("Northwind", False, []),
    ]

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert list(sidebar(request)["sidebar_organizations"]) == []


@pytest.mark.browser
def test_the_checks_notice_a_csp_violation(person, member_of_two):
    """The no-violation assertions of Browser.check would see one: an inline style here."""
    page = signed_in(person, member_of_two)
    assert person.csp_violations() == []
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(100)
    assert any("style-src" in line for line in person.csp_violations()), person.console
    person.console.clear()  # so that the test's own teardown does not fail on it
