"""/settings in a real browser: a person saves a token for a per-user MCP server; the page (and
every WebSocket frame the browser receives) shows only its masked hint, before and after a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import shot

TOKEN = "tracker-token-e2e-abcd1234"


def test_a_person_saves_and_removes_their_token_and_never_sees_it_again(people):
    kim = people("kim")
    page = kim.page
    received: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(str(payload))))

    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings**")
    card = page.locator('.mcp-server[data-server="tracker"]')
    expect(card).to_contain_text("The issue tracker, as you")
    expect(card).to_contain_text("no token")

    box = card.get_by_label("Token for tracker")
    box.fill(TOKEN)
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved your token for tracker (••••1234)")).to_be_visible()
    expect(card.locator(".token-hint")).to_contain_text("••••1234")
    expect(box).to_have_value("")
    shot(page, "settings-token-saved")
    assert TOKEN not in page.content()

    page.reload()
    card = page.locator('.mcp-server[data-server="tracker"]')
    expect(card.locator(".token-hint")).to_contain_text("••••1234")
    assert TOKEN not in page.content()
    assert not [frame for frame in received if TOKEN in frame], "the token came back to the browser"

    card.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status").filter(has_text="Removed your token for tracker")).to_be_visible()
    expect(card).to_contain_text("no token")
