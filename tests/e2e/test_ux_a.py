"""Search, instant send with an outbox, calm reconnects, the composer, admin, a quiet console (issue 15)."""

from __future__ import annotations

import os
import re
import signal

from playwright.sync_api import expect

from .conftest import PASSWORD, post_messages, signin
from .test_resilience import TRACK_SOCKETS

FRAMEWORK_TEXT = re.compile(r"Cannot connect|server is reachable|ws://|_event", re.IGNORECASE)


def console_errors(person) -> list[str]:
    errors: list[str] = []
    person.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    person.page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def connected(person):
    return person.page.get_by_role("status").filter(has_text="Connected")


def unconfirmed(person, text: str):
    return person.page.locator(f'.message.unconfirmed[data-sender="{person.name}"]', has_text=text)


def test_search_finds_an_old_message_and_opens_it_in_context_highlighted(stack, people):
    [old_id] = post_messages(stack, "archivist", ["the zephyr handbook lives in the wiki, page nine"])
    post_messages(stack, "archivist", [f"filler number {i}" for i in range(70)])  # more than a page
    una = people("una")
    expect(una.message("filler number 69")).to_be_visible()
    expect(una.page.locator(f"#msg-{old_id}")).to_have_count(0)  # too old to be on screen

    una.page.keyboard.press("Control+k")
    search = una.page.get_by_placeholder("Search messages")
    expect(search).to_be_focused()
    search.press_sequentially("zephyr wiki", delay=30)
    result = una.page.locator(".search-result", has_text="handbook")
    expect(result).to_be_visible()
    expect(result.locator(".search-sender")).to_have_text("archivist")
    expect(result.locator(".search-room")).to_contain_text("general")
    expect(result.locator("mark.search-hit")).to_have_text(["zephyr", "wiki"])

    search.fill("from:nobody-here zephyr")
    expect(una.page.locator("#search-status")).to_have_text("No messages found")
    search.fill("from:archivist zephyr")
    expect(result).to_be_visible()
    result.click()
    target = una.page.locator(f"#msg-{old_id}")
    expect(target).to_be_visible()
    expect(target).to_have_class(re.compile(r"\bhighlighted\b"))
    expect(una.message("filler number 3")).to_be_visible()  # the conversation around it
    una.page.get_by_role("button", name="Jump to latest").click()
    expect(una.message("filler number 69")).to_be_visible()


def test_my_message_shows_before_the_echo_and_is_confirmed_in_place(stack, people):
    vic = people("vic")
    vic.send("warm up")
    os.kill(stack.server.pid, signal.SIGSTOP)  # the server holds everything: no echo can come
    try:
        vic.composer().fill("seen before the echo")
        vic.composer().press("Enter")
        pending = unconfirmed(vic, "seen before the echo")
        expect(pending).to_be_visible()
        expect(pending.locator(".send-status")).to_have_text("Sending…")
        expect(vic.composer()).to_have_value("")
    finally:
        os.kill(stack.server.pid, signal.SIGCONT)
    expect(unconfirmed(vic, "seen before the echo")).to_have_count(0)
    expect(vic.mine("seen before the echo")).to_have_count(1)
    expect(vic.page.locator(".message").last).to_contain_text("seen before the echo")  # same place: the end


def test_a_message_typed_while_the_server_is_down_is_delivered_once(stack, people):
    wes, xia = people("wes"), people("xia")
    wes.send("before the outage")
    expect(xia.message("before the outage")).to_be_visible()
    stack.stop_server()
    try:
        banner = wes.page.locator("#connection-banner")
        expect(banner).to_have_text("Reconnecting…")
        expect(wes.page.get_by_text(FRAMEWORK_TEXT)).to_have_count(0)
        expect(wes.page.locator(f'[data-member="{xia.name}"]')).to_contain_text("status unknown")
        wes.composer().fill("written while the server was away")
        wes.composer().press("Enter")
        waiting = unconfirmed(wes, "written while the server was away")
        expect(waiting.locator(".send-status")).to_have_text("Waiting for connection…")
        wes.composer().fill("a draft survives")
    finally:
        stack.restarts += 1
        stack.start_server()
    expect(connected(wes)).to_be_visible(timeout=30_000)
    expect(wes.page.locator("#connection-banner")).to_have_text("Back online")
    expect(xia.message("written while the server was away")).to_have_count(1)
    expect(unconfirmed(wes, "written while the server was away")).to_have_count(0)
    expect(wes.mine("written while the server was away")).to_have_count(1)
    expect(wes.composer()).to_have_value("a draft survives")
    xia.page.wait_for_timeout(1500)  # a second copy would have arrived by now
    expect(xia.message("written while the server was away")).to_have_count(1)
    xia.page.reload()
    expect(connected(xia)).to_be_visible()
    expect(xia.message("written while the server was away")).to_have_count(1)  # stored once


def test_the_app_socket_away_shows_reconnecting_not_framework_text(people):
    yan = people("yan")
    yan.page.add_init_script(TRACK_SOCKETS)
    yan.page.reload()
    expect(connected(yan)).to_be_visible()
    yan.context.set_offline(True)
    yan.page.evaluate("() => window.__sockets.forEach(s => s.close())")
    expect(yan.page.locator("#app-reconnecting")).to_have_text("Reconnecting…")
    expect(yan.page.get_by_text(FRAMEWORK_TEXT)).to_have_count(0)
    presence = yan.page.locator(f'[data-member="{yan.name}"] .member-presence')
    assert presence.evaluate("e => getComputedStyle(e, '::after').content") == '"status unknown"'
    yan.context.set_offline(False)
    expect(connected(yan)).to_be_visible(timeout=30_000)
    expect(yan.page.locator("#app-reconnecting")).to_have_count(0)


def test_composer_grows_and_shrinks_back_after_sending(people):
    zed = people("zed")
    box = zed.composer()
    one_line = box.bounding_box()["height"]
    box.fill("\n".join(f"line {i}" for i in range(7)) + "\nline 7 end")
    zed.page.wait_for_function(
        f"() => document.getElementById('composer').getBoundingClientRect().height > {one_line * 2}")
    box.press("Enter")
    expect(zed.mine("line 7 end")).to_be_visible()
    zed.page.wait_for_function(
        f"() => document.getElementById('composer').getBoundingClientRect().height < {one_line * 1.5}")


def test_admin_disables_and_enables_an_account_and_makes_a_reset_link(admin, people):
    kit = people("kit")
    admin.page.goto("/admin")
    row = admin.page.locator(f'[data-user="{kit.name}"]')
    expect(row).not_to_contain_text("never")  # last active: kit just signed in
    admin.page.get_by_role("button", name=f"Disable {kit.name}").click()
    expect(row).to_contain_text("disabled")
    kit.page.wait_for_url("**/login**", timeout=30_000)
    admin.page.get_by_role("button", name=f"Enable {kit.name}").click()
    expect(row).to_contain_text("active")
    admin.page.get_by_role("button", name=f"Password reset link for {kit.name}").click()
    link = admin.page.locator("#new-secret").input_value()
    assert "/reset?token=" in link
    kit.page.goto(link)
    kit.page.get_by_label("New password", exact=True).fill(PASSWORD + " two")
    kit.page.get_by_label("Repeat the new password").fill(PASSWORD + " two")
    kit.page.get_by_role("button", name="Set password").click()
    expect(kit.page.get_by_text("Your password is changed")).to_be_visible()
    signin(kit.page, kit.name, PASSWORD + " two")
    expect(connected(kit)).to_be_visible()


def test_no_console_errors_on_chat_and_admin(admin):
    errors = console_errors(admin)
    admin.page.goto("/")
    expect(connected(admin)).to_be_visible()
    admin.send("console check")
    admin.page.get_by_placeholder("Search messages").fill("console")
    expect(admin.page.locator(".search-result").first).to_be_visible()
    admin.page.keyboard.press("Escape")
    admin.page.goto("/admin")
    expect(admin.page.get_by_role("heading", name="Users and roles")).to_be_visible()
    admin.page.goto("/")
    expect(connected(admin)).to_be_visible()
    admin.page.wait_for_timeout(1000)
    assert errors == []
