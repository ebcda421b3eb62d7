"""Sign up, sign in, sign out; the first account is an admin; / needs a session."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import PASSWORD, signin, shot


def test_first_account_is_admin_and_can_sign_out_and_in(admin, people):
    page = admin.page
    expect(page.locator("#me")).to_have_text(admin.name)
    expect(page.get_by_text("admin", exact=True).first).to_be_visible()
    expect(page.get_by_role("heading", name="Users & Agents")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto("/")
    page.wait_for_url("**/login")

    signin(page, admin.name, "not the password")
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    shot(page, "login-error-light")

    signin(page, admin.name, PASSWORD)
    page.wait_for_url("**/")
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


def test_signed_out_visitor_is_sent_to_login(people):
    visitor = people("visitor", sign_up=False)
    visitor.page.goto("/")
    visitor.page.wait_for_url("**/login")
    expect(visitor.page.get_by_role("button", name="Sign in")).to_be_visible()


def test_second_account_is_developer_and_names_are_unique(admin, people):
    bob = people("bob")
    expect(bob.page.locator("#me")).to_have_text(bob.name)
    expect(bob.page.get_by_text("developer", exact=True).first).to_be_visible()

    other = people("dup", sign_up=False)
    other.page.goto("/signup")
    other.page.get_by_label("Username").fill(bob.name)
    other.page.get_by_label("Password").fill(PASSWORD)
    other.page.get_by_role("button", name="Create account").click()
    expect(other.page.get_by_text("That username is taken.")).to_be_visible()
