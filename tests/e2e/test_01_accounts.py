"""Accounts in a real browser: sign up/in/out, the HttpOnly session cookie, live role and access
changes from /admin, the sign-in throttle and invite links."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import PASSWORD, PLACEHOLDER, shot, signin

SESSION_COOKIE = "agentchat_session"
LOGIN = re.compile(r".*/login/?(\?.*)?$")  # the sign-out route lands on /login (served as /login/)
VIEWER_TEXT = "You have read-only access (viewer)"


def test_first_account_is_admin_and_can_sign_out_and_in(admin, people):
    page = admin.page
    expect(page.locator("#me")).to_have_text(admin.name)
    expect(page.get_by_text("admin", exact=True).first).to_be_visible()
    expect(page.get_by_role("heading", name="Users & Agents")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(LOGIN)
    page.goto("/")
    page.wait_for_url(LOGIN)

    signin(page, admin.name, "not the password")
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    shot(page, "login-error-light")

    signin(page, admin.name, PASSWORD)
    page.wait_for_url("**/")
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


def test_signed_out_visitor_is_sent_to_login(people):
    visitor = people("visitor", sign_up=False)
    visitor.page.goto("/")
    visitor.page.wait_for_url(LOGIN)
    expect(visitor.page.get_by_role("button", name="Sign in")).to_be_visible()


def test_second_account_is_developer_and_names_are_unique(admin, people):
    bob = people("bob")
    expect(bob.page.locator("#me")).to_have_text(bob.name)
    expect(bob.page.get_by_text("developer", exact=True).first).to_be_visible()

    other = people("dup", sign_up=False)
    other.page.goto("/signup")
    other.page.get_by_label("Username").fill(bob.name.upper())  # same name in other letters
    other.page.get_by_label("Password").fill(PASSWORD)
    other.page.get_by_role("button", name="Create account").click()
    expect(other.page.get_by_text("That username is taken.")).to_be_visible()


def test_the_session_cookie_is_out_of_scripts_reach_and_dies_with_sign_out(people, browser, stack):
    kim = people("kim")
    assert SESSION_COOKIE not in kim.page.evaluate("document.cookie")
    cookie = next(c for c in kim.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    kim.page.get_by_role("button", name="Sign out").click()
    kim.page.wait_for_url(LOGIN)

    thief = browser.new_context(base_url=stack.base_url)
    try:
        thief.add_cookies([cookie])  # a copy taken before the sign-out
        page = thief.new_page()
        page.goto("/")
        page.wait_for_url(LOGIN)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        thief.close()


def test_demotion_turns_the_open_tab_read_only_without_a_reload(admin, people):
    lee = people("lee")
    composer = lee.page.get_by_placeholder(PLACEHOLDER)
    expect(composer).to_be_enabled()
    lee.page.evaluate("window.__same_page = true")

    admin.page.goto("/admin")
    row = admin.page.locator(f'[data-user="{lee.name}"]')
    row.get_by_role("combobox").click()
    admin.page.get_by_role("option", name="viewer").click()
    expect(admin.page.get_by_role("status").filter(has_text=f"{lee.name} is now viewer")).to_be_visible()

    expect(lee.page.get_by_text(VIEWER_TEXT)).to_be_visible()
    expect(lee.page.get_by_placeholder(PLACEHOLDER)).to_be_disabled()
    assert lee.page.evaluate("window.__same_page === true")  # no reload happened
    admin.page.goto("/")


def test_disabling_an_account_ends_its_open_session(admin, people):
    max_ = people("max")
    admin.page.goto("/admin")
    admin.page.get_by_role("button", name=f"Disable {max_.name}").click()
    expect(admin.page.get_by_role("button", name=f"Enable {max_.name}")).to_be_visible()

    max_.page.wait_for_url(LOGIN, timeout=30_000)
    signin(max_.page, max_.name, PASSWORD)
    expect(max_.page.get_by_text("This account is disabled; ask an admin.")).to_be_visible()
    admin.page.goto("/")


def test_repeated_wrong_passwords_are_slowed_down(people):
    ned = people("ned")
    ned.page.get_by_role("button", name="Sign out").click()
    ned.page.wait_for_url(LOGIN)
    for _ in range(6):
        signin(ned.page, ned.name, "wrong password!")
        expect(ned.page.get_by_text("Invalid username or password")).to_be_visible()
    signin(ned.page, ned.name, PASSWORD)
    expect(ned.page.get_by_text("Too many attempts; try again in")).to_be_visible()
    shot(ned.page, "login-throttled-light")


def test_an_invite_link_signs_up_with_the_chosen_role(admin, people):
    admin.page.goto("/admin")
    admin.page.get_by_label("Role for the invited person").select_option("viewer")
    admin.page.get_by_role("button", name="Create invite link").click()
    link = admin.page.locator("#new-secret")
    expect(link).to_have_value(re.compile(r"/signup\?invite=iv_"))
    url = link.input_value()
    admin.page.goto("/")

    guest = people("guest", sign_up=False)
    guest.page.goto(url)
    expect(guest.page.get_by_text("You were invited")).to_be_visible()
    guest.page.get_by_label("Username").fill(guest.name)
    guest.page.get_by_label("Password").fill(PASSWORD)
    guest.page.get_by_role("button", name="Create account").click()
    guest.page.wait_for_url("**/")
    expect(guest.page.get_by_text(VIEWER_TEXT)).to_be_visible()
