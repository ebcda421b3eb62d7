"""Screenshots of the main screens, light and dark, on a desktop and a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import ARTIFACTS, shot

PHONE = {"width": 390, "height": 844}


def test_screenshots(people, admin):
    for scheme in ("light", "dark"):
        guest = people("guest", sign_up=False, color_scheme=scheme)
        guest.page.goto("/login")
        expect(guest.page.get_by_role("button", name="Sign in")).to_be_visible()
        shot(guest.page, f"login-{scheme}")

        zoe = people("zoe", color_scheme=scheme)
        zoe.send("@helper what can you do?")
        expect(zoe.page.locator(".message.from-agent", has_text="Commands").last).to_be_visible()
        zoe.send("Here is a snippet for **everyone**: `print('hi')`")
        zoe.page.wait_for_timeout(500)
        shot(zoe.page, f"chat-{scheme}")

        admin_dark = admin.context.browser.new_context(
            base_url=admin.page.url.split("/", 3)[0] + "//" + admin.page.url.split("/", 3)[2],
            color_scheme=scheme, viewport={"width": 1280, "height": 800},
            storage_state=admin.context.storage_state(),
        )
        page = admin_dark.new_page()
        page.goto("/admin")
        expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
        shot(page, f"admin-{scheme}")
        admin_dark.close()

        phone = people("phone", color_scheme=scheme, viewport=PHONE)
        phone.send("Hello from a phone")
        expect(phone.composer()).to_be_visible()
        shot(phone.page, f"chat-phone-{scheme}")
        phone.page.get_by_role("button", name="Show users and agents").click()
        expect(phone.page.get_by_role("heading", name="Users & Agents")).to_be_visible()
        shot(phone.page, f"people-phone-{scheme}")
    assert (ARTIFACTS / "chat-light.png").exists()
