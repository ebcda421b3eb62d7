"""Reloads, a companion-server restart and a browser socket that drops: nothing is lost."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import post_messages

# Keeps every WebSocket the page opens, so a test can cut Reflex's own socket.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) { const s = new Native(...args); window.__sockets.push(s); return s; };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""


def connected(person):
    return person.page.get_by_role("status").filter(has_text="Connected")


def test_reload_shows_the_history(people):
    kim = people("kim")
    for text in ("history one", "history two", "history three"):
        kim.send(text)
    expect(kim.message("history three")).to_be_visible()
    kim.page.reload()
    expect(connected(kim)).to_be_visible()
    for text in ("history one", "history two", "history three"):
        expect(kim.message(text)).to_have_count(1)


def test_server_restart_shows_reconnecting_then_connected_and_loses_nothing(stack, people):
    lee, max_ = people("lee"), people("max")
    lee.send("before the restart")
    expect(max_.message("before the restart")).to_be_visible()

    stack.stop_server()
    expect(lee.page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
    lee.page.wait_for_timeout(1500)
    stack.restarts += 1
    stack.start_server()
    expect(connected(lee)).to_be_visible(timeout=30_000)
    expect(connected(max_)).to_be_visible(timeout=30_000)

    lee.send("after the restart")
    expect(max_.message("after the restart")).to_be_visible()
    for person in (lee, max_):
        expect(person.message("before the restart")).to_have_count(1)
        expect(person.message("after the restart")).to_have_count(1)


def test_messages_stored_while_the_bridges_are_away_arrive_by_recovery(stack, people):
    """Messages committed while the server is down cannot arrive live: only recovery (the bridge
    resuming from its last id) can bring them, exactly once each.  There are more of them than a
    fresh page holds (50): a bridge that reloaded instead of resuming would not show the first."""
    ned, ola = people("ned"), people("ola")
    ned.send("just before the outage")
    expect(ola.message("just before the outage")).to_be_visible()
    stack.stop_server()
    expect(ola.page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
    store_while_down(stack, "archivist", [f"burst {i:02d} of 60" for i in range(60)])
    stack.restarts += 1
    stack.start_server()
    for person in (ned, ola):
        expect(connected(person)).to_be_visible(timeout=30_000)
        for i in (0, 1, 30, 59):
            expect(person.message(f"burst {i:02d} of 60")).to_have_count(1)
        expect(person.message("just before the outage")).to_have_count(1)


def store_while_down(stack, sender: str, texts: list[str]) -> None:
    """Commit messages straight to the database of a stopped server (as if sent just before a crash)."""
    import asyncio
    import threading

    from server.store import Message
    from server.store.sql import SqlStore

    async def write() -> None:
        store = SqlStore(f"sqlite:///{stack.env['AGENTCHAT_DATA_DIR']}/agentchat.db")
        await store.start()
        try:
            for text in texts:
                await store.append(Message(sender, text))
        finally:
            await store.close()

    # Playwright's sync API keeps an event loop on this thread: write from another one.
    worker = threading.Thread(target=lambda: asyncio.run(write()))
    worker.start()
    worker.join(60)


def test_browser_socket_drop_and_quick_return_keeps_the_session(people):
    pia = people("pia")
    quin = people("quin")
    pia.page.add_init_script(TRACK_SOCKETS)
    pia.page.reload()
    expect(connected(pia)).to_be_visible()
    quin.send("seen before the drop")
    expect(pia.message("seen before the drop")).to_be_visible()

    for _ in range(2):  # twice: the second drop happens right after a reconnect
        closed = pia.page.evaluate(
            "() => window.__sockets.filter(s => s.readyState === 1).map(s => (s.close(), 1)).length"
        )
        assert closed >= 1
        pia.page.wait_for_timeout(700)
    quin.send("sent after the drop")
    expect(pia.message("sent after the drop")).to_be_visible(timeout=30_000)
    expect(pia.message("seen before the drop")).to_have_count(1)
    assert "/login" not in pia.page.url
    pia.send("still able to post")
    expect(quin.message("still able to post")).to_be_visible()


def test_viewer_cannot_post(admin, people):
    vic = people("vic")
    admin.page.goto("/admin")
    row = admin.page.locator(f'[data-user="{vic.name}"]')
    expect(row).to_be_visible()
    row.get_by_role("combobox").click()
    admin.page.get_by_role("option", name="viewer").click()
    expect(admin.page.get_by_text(f"{vic.name} is now viewer")).to_be_visible()

    vic.page.reload()
    expect(connected(vic)).to_be_visible()
    expect(vic.composer()).to_be_disabled()
    expect(vic.page.get_by_text("read-only access")).to_be_visible()
    expect(vic.page.get_by_role("button", name="Send")).to_be_disabled()
    admin.page.goto("/")


def test_load_earlier_pages_back_through_the_history(stack, people):
    post_messages(stack, "archivist", [f"archived note {i}" for i in range(120)])  # over two pages of 50
    ray = people("ray")
    more = ray.page.get_by_role("button", name="Load earlier")
    expect(more).to_be_visible()
    messages = ray.page.locator(".message")
    before = messages.count()
    more.click()
    expect(messages).not_to_have_count(before)
    assert messages.count() > before
