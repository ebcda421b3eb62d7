"""Search, instant send with an outbox, calm reconnects, admin, and a quiet console (issue 15)."""

from __future__ import annotations

from playwright.sync_api import expect


def console_errors(person) -> list[str]:
    errors: list[str] = []
    person.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    person.page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_no_console_errors_on_chat_and_admin(people, admin):
    errors = console_errors(admin)
    admin.page.goto("/")
    expect(admin.page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    admin.send("console check")
    admin.page.goto("/admin")
    expect(admin.page.get_by_role("heading", name="Users and roles")).to_be_visible()
    admin.page.wait_for_timeout(1000)
    assert errors == []
