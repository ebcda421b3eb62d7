"""Rooms in the browser: channels, invitations, threads, edit/delete/react, unread badges that
follow the person across tabs, and a URL per room."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import PASSWORD, PLACEHOLDER, SEND_SPACING_MS, shot


def in_log(page: Page, text: str):
    """A message of the open room's timeline (not the copy of a root in the thread panel)."""
    return page.locator("#message-log .message", has_text=text)


def room_link(page: Page, label: str):
    return page.get_by_role("navigation", name="Rooms").locator(f'.room-link[data-room-name="{label}"]')


def act(page: Page, text: str, action: str) -> None:
    """Hover a message (its actions appear) and use one of them."""
    message = in_log(page, text).first
    message.hover()
    message.get_by_role("toolbar").get_by_role("button", name=action).click()


def test_channel_invite_thread_edit_delete_and_react(people):
    alice, bob = people("alice"), people("bob")
    name = f"plans-{alice.name}"
    page = alice.page
    page.get_by_role("button", name="Create channel").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-title")).to_have_text(name)
    expect(page).to_have_url(re.compile(r"\?room=r-"))
    expect(room_link(page, name)).to_have_attribute("aria-current", "page")
    expect(room_link(bob.page, name)).to_have_count(0)  # public, but bob has not joined

    page.get_by_role("button", name="Members and agents of this room").click()
    page.get_by_role("button", name=f"Invite {bob.name}").click()
    expect(page.locator(f'[data-room-member="{bob.name}"]')).to_be_visible()
    page.keyboard.press("Escape")
    expect(room_link(bob.page, name)).to_be_visible()

    alice.send("Kickoff: what do we ship first?")
    expect(room_link(bob.page, name).locator(".room-unread")).to_have_text("1")
    expect(bob.message("Kickoff")).to_have_count(0)  # bob is in general
    room_link(bob.page, name).click()
    expect(bob.page.locator("#room-title")).to_have_text(name)
    expect(in_log(bob.page, "Kickoff")).to_be_visible()
    expect(room_link(bob.page, name).locator(".room-unread")).to_have_count(0)

    act(bob.page, "Kickoff", f"Open a thread on {alice.name}'s message")  # its title: "Reply in thread"
    thread = bob.page.get_by_role("complementary", name="Thread")
    thread.get_by_role("textbox", name="Reply in thread").fill("The login page")
    thread.get_by_role("textbox", name="Reply in thread").press("Enter")
    expect(thread.locator(".message", has_text="The login page")).to_be_visible()
    expect(in_log(page, "Kickoff").locator(".thread-link")).to_have_text("1 reply")
    expect(in_log(page, "The login page")).to_have_count(0)  # replies stay in the thread
    in_log(page, "Kickoff").locator(".thread-link").click()
    expect(page.get_by_role("complementary", name="Thread").locator(".message", has_text="The login page")
           ).to_be_visible()
    page.get_by_role("button", name="Close thread").click()

    alice.send("We ship on Fridya")
    act(page, "Fridya", "Edit message")
    page.locator("#edit-text").fill("We ship on Friday")
    page.get_by_role("button", name="Save").click()
    expect(in_log(bob.page, "We ship on Friday")).to_contain_text("(edited)")
    expect(in_log(bob.page, "Fridya")).to_have_count(0)

    act(bob.page, "We ship on Friday", f"React to {alice.name}")
    # The picker is a popover: pick with the keyboard (Playwright's click waits for an animation frame
    # that a popover's open animation keeps postponing in headless Chromium).
    bob.page.get_by_role("button", name="React with ❤️").press("Enter")
    chip = in_log(page, "We ship on Friday").locator(".reaction-chip")
    expect(chip).to_contain_text("1")
    expect(chip).to_have_attribute("title", bob.name)
    expect(in_log(bob.page, "We ship on Friday").get_by_role("toolbar").get_by_role(
        "button", name="Edit message")).to_have_count(0)  # not bob's to edit

    alice.send("oops, wrong room")
    act(page, "oops, wrong room", "Delete message")
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(in_log(bob.page, "This message was deleted")).to_be_visible()
    expect(in_log(bob.page, "oops, wrong room")).to_have_count(0)

    in_log(page, "Kickoff").locator(".thread-link").click()
    expect(page.get_by_role("complementary", name="Thread").locator(".message", has_text="The login page")
           ).to_be_visible()
    shot(page, "rooms-light")


def test_reading_in_one_tab_clears_the_badge_in_the_other_and_reload_keeps_the_room(people):
    carol, dan = people("carol"), people("dan")
    carol.page.get_by_role("button", name="New direct message").click()
    carol.page.get_by_role("button", name=f"Message {dan.name}").click()
    expect(carol.page.locator("#room-title")).to_have_text(dan.name)
    carol.send("ping, just between us")
    link = room_link(dan.page, carol.name)
    expect(link.locator(".room-unread")).to_have_text("1")

    second = dan.context.new_page()  # dan's other tab
    second.goto("/")
    expect(second.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    expect(room_link(second, carol.name).locator(".room-unread")).to_have_text("1")  # kept by the server
    room_link(second, carol.name).click()
    expect(in_log(second, "just between us")).to_be_visible()
    expect(link.locator(".room-unread")).to_have_count(0)  # the first tab follows

    carol.page.wait_for_timeout(SEND_SPACING_MS)
    url = carol.page.url
    assert "?room=" in url
    carol.page.reload()
    expect(carol.page.locator("#room-title")).to_have_text(dan.name)
    expect(in_log(carol.page, "just between us")).to_be_visible()
    other = carol.context.new_page()  # a link opens the room too
    other.goto(url)
    expect(other.locator("#room-title")).to_have_text(dan.name)
    expect(in_log(other, "just between us")).to_be_visible()
    second.close()
    other.close()


def test_browse_and_join_a_public_channel(people):
    erin, finn = people("erin"), people("finn")
    name = f"lobby-{erin.name}"
    erin.page.get_by_role("button", name="Create channel").click()
    erin.page.get_by_label("Name").fill(name)
    erin.page.get_by_role("button", name="Create", exact=True).click()
    expect(erin.page.locator("#room-title")).to_have_text(name)
    erin.send("Anyone can join this one")

    finn.page.get_by_role("button", name="Browse channels").click()
    finn.page.get_by_role("button", name=f"Join {name}").click()
    expect(finn.page.locator("#room-title")).to_have_text(name)
    expect(in_log(finn.page, "Anyone can join")).to_be_visible()
    expect(room_link(finn.page, name)).to_be_visible()
    finn.send("Joined!")
    expect(in_log(erin.page, "Joined!")).to_be_visible()


def test_a_direct_message_with_an_agent_is_answered_there(people):
    gus = people("gus")
    gus.page.get_by_role("button", name="New direct message").click()
    gus.page.get_by_role("button", name="Message helper").click()
    expect(gus.page.locator("#room-title")).to_have_text("helper")
    gus.send("hello there")  # no @mention: in a DM the agent answers everything
    answer = gus.page.locator("#message-log .message.from-agent", has_text="Agents here")
    expect(answer).to_be_visible()
    room_link(gus.page, "general").click()
    expect(gus.page.locator("#room-title")).to_have_text("general")
    expect(in_log(gus.page, "hello there")).to_have_count(0)


def test_a_viewer_reads_but_cannot_edit_delete_react_or_create(admin, people):
    admin.page.goto("/admin")
    admin.page.get_by_label("Role for the invited person").select_option("viewer")
    admin.page.get_by_role("button", name="Create invite link").click()
    link = admin.page.locator("#new-secret")
    expect(link).to_have_value(re.compile(r"/signup\?invite=iv_"))
    url = link.input_value()
    admin.page.goto("/")

    vic = people("vic", sign_up=False)
    vic.page.goto(url)
    vic.page.get_by_label("Username").fill(vic.name)
    vic.page.get_by_label("Password").fill(PASSWORD)
    vic.page.get_by_role("button", name="Create account").click()
    vic.page.wait_for_url("**/")
    admin.send(f"Read-only hello to {vic.name}")
    message = in_log(vic.page, f"Read-only hello to {vic.name}")
    expect(message).to_be_visible()
    message.hover()
    expect(message.get_by_role("toolbar")).to_have_count(0)
    expect(vic.page.get_by_role("button", name="Create channel")).to_have_count(0)
    expect(vic.page.get_by_role("button", name="New direct message")).to_have_count(0)


def test_up_in_an_empty_composer_edits_my_last_message(people):
    dora = people("dora")
    page = dora.page
    dora.send("First draft of the plan")
    dora.send("Second thougths")
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill("")
    box.focus()
    box.press("ArrowUp")
    edit = page.locator("#edit-text")
    expect(edit).to_have_value("Second thougths")  # the newest of mine, not the first
    edit.fill("Second thoughts")
    page.get_by_role("button", name="Save").click()
    expect(in_log(page, "Second thoughts")).to_contain_text("(edited)")
    box.fill("typing something")
    box.press("ArrowUp")  # with text in the composer, Up is just a caret key
    expect(edit).to_have_count(0)

