"""Two people and the agents in one room: messages, presence, typing, replies, agents, files."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import PLACEHOLDER, SEND_SPACING_MS, busy_sender, shot


def test_two_people_see_each_other_messages_and_presence(admin, people):
    alice, bob = people("alice"), people("bob")
    sidebar = alice.page.get_by_role("complementary", name="Users & Agents")
    expect(sidebar.locator(f'[data-member="{bob.name}"]')).to_contain_text("online")

    bob.page.wait_for_timeout(1600)  # what was on screen at load is history, not news
    bob.page.evaluate("() => { document.hasFocus = () => false; }")  # bob looks elsewhere
    alice.send(f"Hello @{bob.name}, welcome!")
    expect(bob.message("welcome!")).to_be_visible()
    expect(bob.message("welcome!").locator(".mention-me")).to_have_text(f"@{bob.name}")
    expect(bob.page.get_by_text(f"{alice.name} mentioned you")).to_be_visible()
    expect(bob.page).to_have_title(re.compile(r"^\(1\) "))  # unread, in the tab title
    bob.page.evaluate("() => { document.hasFocus = () => true; window.dispatchEvent(new Event('focus')); }")
    expect(bob.page).not_to_have_title(re.compile(r"^\(\d+\) "))

    bob.composer().press_sequentially("typing something", delay=30)
    expect(alice.page.get_by_text(f"{bob.name} is typing…")).to_be_visible()
    bob.composer().press("Enter")
    expect(alice.message("typing something")).to_be_visible()
    expect(alice.page.get_by_text(f"{bob.name} is typing…")).to_have_count(0)

    bob.context.close()
    expect(sidebar.locator(f'[data-member="{bob.name}"]')).to_contain_text("last seen", timeout=30_000)


def test_shift_enter_breaks_the_line(people):
    carol = people("carol")
    box = carol.composer()
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    expect(carol.message("second line")).to_contain_text("first line\nsecond line")


def test_mention_suggestions_offer_agents(people):
    dave = people("dave")
    dave.composer().press_sequentially("hi @hel")
    dave.page.get_by_role("option", name="@helper").click()
    expect(dave.composer()).to_have_value("hi @helper ")


def test_agent_reply_and_moving_progress_bar(people):
    erin = people("erin")
    erin.send("@tasks add Write the release notes")
    answer = erin.page.locator(".message.from-agent", has_text="Write the release notes")
    expect(answer.first).to_be_visible()
    expect(answer.first.locator(".message-sender")).to_have_text("tasks")

    tasks = erin.page.locator('[data-member="tasks"]')
    bar = tasks.get_by_role("progressbar")
    expect(bar).to_be_visible()
    erin.send("@tasks add Ship version 1")
    erin.send("/task list")
    listing = erin.page.locator(".message.from-agent", has_text="Ship version 1").last
    expect(listing).to_be_visible()
    mine = re.search(r"#(\d+) \[todo\] Ship version 1", listing.inner_text())
    assert mine, listing.inner_text()
    before = int(bar.get_attribute("aria-valuenow") or "0")
    erin.send(f"/task done {mine.group(1)}")
    expect(bar).not_to_have_attribute("aria-valuenow", str(before))
    after = int(bar.get_attribute("aria-valuenow") or "0")
    assert after > before
    shot(erin.page, "agent-progress-light")
    tasks.get_by_role("button", name="Stop tasks").click()
    expect(erin.page.get_by_text("Asked tasks to stop")).to_be_visible()
    expect(tasks.locator(".agent-task")).to_contain_text(f"Stopped by {erin.name}")


def test_agent_question_buttons_answer_it(people):
    fay = people("fay")
    fay.send("/task add Temporary task for the question")
    listing = fay.page.locator(".message.from-agent", has_text="Temporary task for the question").last
    expect(listing).to_be_visible()
    task_id = re.findall(r"#(\d+)", listing.inner_text())[0]
    fay.send(f"/task delete {task_id}")
    question = fay.page.locator(".agent-question").last
    expect(question).to_contain_text("tasks asks you")
    question.get_by_role("button", name="Delete").click()
    expect(question).to_contain_text("Answered")


def test_reply_shows_a_quote_that_scrolls_to_the_original(people):
    gus = people("gus", viewport={"width": 1000, "height": 560})
    gus.send("The original message to answer")
    original = gus.page.locator("#" + gus.mine("The original message to answer").last.get_attribute("id"))
    for i in range(12):  # push the original up out of view (grouped messages are compact: three lines each)
        gus.send(f"filler {i}\n.\n.")
    original.get_by_role("button", name=re.compile("^Reply")).click()
    expect(gus.page.locator("#reply-banner")).to_contain_text("The original message to answer")
    gus.send("This is my answer")
    gus.log().evaluate("log => { log.scrollTop = log.scrollHeight; }")
    expect(original).not_to_be_in_viewport()
    answer = gus.message("This is my answer").last
    quote = answer.locator(".reply-quote")
    expect(quote).to_contain_text("The original message to answer")
    quote.click()
    expect(original).to_be_in_viewport()


def post_raw(person, text: str) -> None:
    """Send Markdown: what shows is rendered, so wait for the composer to empty, not for the text."""
    person.composer().fill(text)
    person.composer().press("Enter")
    expect(person.composer()).to_have_value("")
    person.page.wait_for_timeout(SEND_SPACING_MS)


def test_user_text_is_never_html(people, admin):
    mallory = people("mallory")
    payloads = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>"]
    for payload in payloads:
        mallory.send(payload)
        expect(mallory.message(payload).last).to_be_visible()
    # An agent echoing the text renders it through Markdown: still plain text.
    post_raw(mallory, "/task add <img src=y onerror=alert(3)> **bold**")
    echoed = mallory.page.locator(".message.from-agent", has_text="<img src=y onerror=alert(3)>")
    expect(echoed.last).to_be_visible()
    post_raw(mallory, "/task add ![pixel](http://127.0.0.1:9/track.png) [click](javascript:alert(4))")
    # The agent repeats the title inertly: the very characters, not an image or a link.
    tracked = mallory.page.locator(".message.from-agent", has_text="![pixel](").last
    expect(tracked).to_be_visible()
    assert tracked.locator(".agent-markdown a").count() == 0, "no link inside the agent's own words"
    assert mallory.page.locator(".message .rich-text img").count() == 0
    assert mallory.page.locator(".message script").count() == 0
    mallory.page.wait_for_timeout(500)
    assert mallory.dialogs == []
    assert admin.dialogs == []


def test_file_upload_reaches_an_agent(people, tmp_path):
    hana = people("hana")
    csv = tmp_path / "sales.csv"
    csv.write_text("region,amount\nnorth,10\nsouth,20\neast,30\n")
    with hana.page.expect_file_chooser() as chooser:
        hana.page.get_by_role("button", name="Attach").click()
    chooser.value.set_files(str(csv))
    expect(hana.page.locator(".pending-file")).to_contain_text("sales.csv")
    hana.send("@files what is in this?")
    mine = hana.mine("what is in this?").last
    expect(mine.locator(".attachment-chip")).to_contain_text("sales.csv")
    answer = hana.page.locator(".message.from-agent", has_text="sales.csv").last
    expect(answer).to_contain_text("region")

    with hana.page.expect_download() as download:
        mine.locator(".attachment-chip").click()
    path = download.value.path()
    assert path is not None and open(path).read().startswith("region,amount")


def test_refused_upload_says_why(people, tmp_path):
    ivan = people("ivan")
    binary = tmp_path / "tool.exe"
    binary.write_bytes(b"MZ" + b"\0" * 100)
    with ivan.page.expect_file_chooser() as chooser:
        ivan.page.get_by_role("button", name="Attach").click()
    chooser.value.set_files(str(binary))
    expect(ivan.page.get_by_role("alert")).to_contain_text("not allowed")


def test_rate_limit_is_explained_and_retry_sends(people, stack):
    jay = people("jay")
    box = jay.page.get_by_placeholder(PLACEHOLDER)
    refused = jay.page.locator(".message.unconfirmed.failed", has_text=re.compile(r"quick \d\d"))
    with busy_sender(stack, jay.name):  # jay's own script keeps him inside the minimum gap
        for attempt in range(20):
            box.fill(f"quick {attempt:02d}")
            box.press("Enter")
            for _ in range(30):
                if refused.count():
                    break
                jay.page.wait_for_timeout(100)
            if refused.count():
                break
    message = refused.first
    expect(message).to_contain_text("sending messages too quickly")
    expect(message).to_contain_text(re.compile(r"send again (in \d\.\d s|now)"))
    text = re.search(r"quick \d\d", message.inner_text()).group(0)
    # The script has stopped: its close came after its last message, so the server has counted
    # that one; once the minimum gap (0.5 s by default) has passed, the retry is let through.
    jay.page.wait_for_timeout(1000)
    message.get_by_role("button", name="Retry sending this message").click()
    expect(jay.page.locator(".message:not(.unconfirmed)", has_text=text)).to_have_count(1)
    expect(refused).to_have_count(0)


def test_keyboard_alone_reaches_the_composer_and_replies(people):
    kay = people("kay")
    kay.send("reply to me by keyboard")
    kay.page.locator("body").click(position={"x": 5, "y": 400})
    focused = ""
    for _ in range(60):  # the message list is one tab stop ...
        kay.page.keyboard.press("Tab")
        focused = kay.page.evaluate("() => document.activeElement?.id || ''")
        if focused == "message-log":
            break
    assert focused == "message-log", focused
    kay.page.keyboard.press("End")  # ... arrow keys, Home and End move between messages ...
    expect(kay.mine("reply to me by keyboard").last).to_be_focused()
    kay.page.keyboard.press("Tab")  # ... and Tab reaches the focused message's own actions
    focused = kay.page.evaluate("() => document.activeElement?.getAttribute('aria-label') || ''")
    assert focused.startswith("Reply to"), focused
    kay.page.keyboard.press("Enter")
    expect(kay.page.locator("#reply-banner")).to_be_visible()
    expect(kay.composer()).to_be_focused()
    kay.page.keyboard.type("answered without a mouse")
    kay.page.keyboard.press("Enter")
    expect(kay.mine("answered without a mouse").locator(".reply-quote")).to_be_visible()


def test_your_message_is_on_screen_the_moment_you_send_it(people):
    """Drawn at submit, before any answer from the app; then the app's own copy alone, once."""
    gina = people("gina")
    text = "**instant** hello from gina"
    gina.composer().fill(text)
    shown_at_submit = gina.page.evaluate(
        """() => {
            document.getElementById('composer').form.requestSubmit();
            return document.getElementById('local-echo').textContent;  // no await: still this task
        }"""
    )
    assert "**instant** hello from gina" in shown_at_submit and "Sending" in shown_at_submit
    expect(gina.page.locator(".message:not(.unconfirmed)", has_text="instant hello from gina")).to_have_count(1)
    expect(gina.page.locator("#local-echo .local-echo-item")).to_have_count(0)  # taken over, not doubled


def test_a_new_message_arrives_whole(people):
    """Its sender's letter and its time are there the moment it appears in another tab (drawn in
    one go: they used to pop in one and two renders later, each a frame of work in every tab)."""
    hana, ivan = people("hana"), people("ivan")
    ivan.page.evaluate(
        """() => {
            window.__arrived = null;
            new MutationObserver((records) => {
                for (const r of records) for (const n of r.addedNodes) {
                    const m = n.nodeType === 1 && n.closest && (n.matches('.message') ? n : n.querySelector('.message'));
                    if (m && m.textContent.includes('arrives whole') && !window.__arrived) {
                        window.__arrived = {
                            letter: (m.querySelector('.rt-AvatarFallback') || {}).textContent || '',
                            time: (m.querySelector('time.message-time') || {}).textContent || '',
                        };
                    }
                }
            }).observe(document.getElementById('message-log'), {childList: true, subtree: true});
        }"""
    )
    hana.send("this message arrives whole")
    expect(ivan.message("arrives whole")).to_be_visible()
    arrived = ivan.page.evaluate("() => window.__arrived")
    assert arrived == {"letter": "H", "time": arrived["time"]} and re.fullmatch(r"\d\d:\d\d", arrived["time"]), arrived
    expect(ivan.message("arrives whole").locator("time.message-time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
