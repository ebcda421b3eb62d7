"""Screenshots of the main screens, light and dark, desktop and phone (runs first: a tidy room)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import ARTIFACTS, PASSWORD, signin, shot

PHONE = {"width": 390, "height": 844}


def test_screenshots(people, admin, browser, stack):
    guest = people("guest", sign_up=False)
    guest.page.goto("/login")
    expect(guest.page.get_by_role("button", name="Sign in")).to_be_visible()
    shot(guest.page, "login-light")

    zoe = people("zoe", exact=True, viewport={"width": 1280, "height": 900})
    sam = people("sam", exact=True)
    sam.send("Morning @zoe! Are we still shipping the beta today?")
    expect(zoe.message("Are we still shipping")).to_be_visible()
    zoe.message("Are we still shipping").get_by_role("button", name=re.compile("^Reply")).click()
    zoe.send("Yes! I'll put it on the board so nothing slips.")
    zoe.send("@tasks add Write the release notes @sam")
    zoe.send("@tasks add Record the demo video")
    zoe.send("/task done 2")
    expect(zoe.page.locator('[data-member="tasks"]').get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", "50")
    expect(zoe.page.get_by_text("sam mentioned you")).to_have_count(0, timeout=15_000)  # toast gone
    sam.composer().press_sequentially("On it, drafting", delay=40)
    expect(zoe.page.get_by_text("sam is typing…")).to_be_visible()
    zoe.page.wait_for_timeout(400)
    shot(zoe.page, "chat-light")
    sam.composer().fill("")

    admin.page.goto("/admin")
    expect(admin.page.get_by_role("heading", name="Users and roles")).to_be_visible()
    shot(admin.page, "admin-light")
    admin.page.goto("/")

    dark = browser.new_context(base_url=stack.base_url, color_scheme="dark", viewport={"width": 1280, "height": 900})
    page = dark.new_page()
    page.goto("/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    shot(page, "login-dark")
    signin(page, "zoe", PASSWORD)
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    expect(page.locator(".message.from-agent", has_text="Done: #2").last).to_be_visible()
    page.wait_for_timeout(400)
    shot(page, "chat-dark")
    dark.close()

    for scheme in ("light", "dark"):
        phone = people("pat", color_scheme=scheme, viewport=PHONE)
        phone.send("Hello from a phone")
        expect(phone.composer()).to_be_visible()
        shot(phone.page, f"chat-phone-{scheme}")
        phone.page.get_by_role("button", name="Show users and agents").click()
        expect(phone.page.get_by_role("heading", name="Users & Agents")).to_be_visible()
        shot(phone.page, f"people-phone-{scheme}")
    assert (ARTIFACTS / "chat-light.png").exists()
