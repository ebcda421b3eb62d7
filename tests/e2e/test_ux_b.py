"""Rich messages, a readable timeline, notifications, keyboard use and an accessibility audit."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS, PASSWORD, post_messages, signin

SERIOUS = ("serious", "critical")


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def attach(page: Page, path) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach").click()
    chooser.value.set_files(str(path))
    expect(page.locator(".pending-file")).to_contain_text(path.name)


def test_a_persons_message_renders_markdown_code_and_links(people):
    kim = people("kim")
    errors = console_errors(kim.page)
    kim.page.reload()
    expect(kim.composer()).to_be_enabled()
    text = "Try this:\n```python\nprint('hi')\n```\n- docs: https://example.com/docs\n> a quote"
    kim.send(text)
    message = kim.mine("Try this:").last
    expect(message.locator("code", has_text="print('hi')").first).to_be_visible()
    expect(message.get_by_role("button", name="Copy code")).to_have_count(1)
    link = message.get_by_role("link", name="https://example.com/docs")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(message.locator("li")).to_contain_text("docs:")
    expect(message.locator("blockquote")).to_contain_text("a quote")
    # line breaks the person typed stay line breaks
    kim.send("first\nsecond")
    expect(kim.mine("second").last.locator("br")).to_have_count(1)
    assert errors == [], errors


def test_attachments_show_a_thumbnail_and_a_preview(people, tmp_path):
    from PIL import Image

    lee = people("lee")
    picture = tmp_path / "sunset.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (250, 120, 30)).save(buffer, "PNG")
    picture.write_bytes(buffer.getvalue())
    attach(lee.page, picture)
    lee.send("the view from here")
    message = lee.mine("the view from here").last
    thumb = message.locator("img.attachment-thumb")
    expect(thumb).to_be_visible()
    lee.page.wait_for_function("img => img.complete && img.naturalWidth === 64", arg=thumb.element_handle())
    message.get_by_role("button", name="View image sunset.png").click()
    viewer = lee.page.get_by_role("dialog", name="sunset.png")
    expect(viewer.locator("img.viewer-image")).to_be_visible()
    lee.page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)

    table = tmp_path / "sales.csv"
    table.write_text("region,amount\n" + "".join(f"r{i},{i}\n" for i in range(30)))
    attach(lee.page, table)
    lee.send("numbers attached")
    numbers = lee.mine("numbers attached").last
    numbers.get_by_role("button", name="Preview sales.csv").click()
    preview = numbers.locator(".attachment-preview")
    expect(preview.get_by_role("columnheader", name="region")).to_be_visible()
    expect(preview.get_by_role("cell", name="r0", exact=True)).to_be_visible()
    expect(preview).to_contain_text("First 5 rows")


def test_keyboard_only(people):
    max_ = people("max")
    page = max_.page
    page.reload()
    box = max_.composer()
    expect(box).to_be_focused()  # focus starts in the composer

    page.keyboard.type("hi @hel")
    expect(page.get_by_role("option", name="@helper")).to_be_visible()
    page.keyboard.press("Enter")  # takes the mention, does not send "@hel"
    expect(box).to_have_value("hi @helper ")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("keys only")
    page.keyboard.press("Enter")
    expect(max_.mine("keys only")).to_have_count(1)
    expect(box).to_be_focused()  # and after sending

    # The log is one tab stop; arrow keys move between messages; a message's actions follow it.
    focused = "() => { const a = document.activeElement; return a && a.classList.contains('message') ? a.id : ''; }"
    max_.log().focus()
    page.keyboard.press("End")
    page.wait_for_function(f"({focused})() !== ''")
    last = page.evaluate(focused)
    page.keyboard.press("ArrowUp")
    page.wait_for_function(f"(() => {{ const id = ({focused})(); return id !== '' && id !== {last!r}; }})()")
    unfocused = page.evaluate(
        "() => [...document.querySelectorAll('#message-log .message')].filter(m => !m.contains(document.activeElement))"
        ".flatMap(m => [...m.querySelectorAll('button, a[href]')]).filter(el => el.tabIndex >= 0).length")
    assert unfocused == 0
    mine = max_.mine("keys only").last
    mine.focus()
    page.keyboard.press("Tab")
    expect(mine.get_by_role("button", name=f"Reply to {max_.name}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#reply-banner")).to_be_visible()
    expect(box).to_be_focused()
    page.keyboard.press("Escape")  # cancels the reply
    expect(page.locator("#reply-banner")).to_have_count(0)

    page.reload()
    expect(box).to_be_focused()
    skip = page.get_by_role("link", name="Skip to the message box")
    for _ in range(20):  # from the end of the page backwards to the skip link
        if skip.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Shift+Tab")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_be_focused()


def test_timeline_groups_dates_new_line_and_jump(people, stack):
    nia = people("nia")
    nia.send("one thought")
    nia.send("and another")
    expect(nia.mine("and another").last).to_have_class(re.compile(r"\bcontinued\b"))
    expect(nia.mine("one thought").last).not_to_have_class(re.compile(r"\bcontinued\b"))
    expect(nia.page.get_by_role("separator", name="Today").first).to_be_visible()

    # What nia had seen is remembered: messages after it are under "New messages" on return.
    newest = nia.page.evaluate("() => Number([...document.querySelectorAll('.message[id^=msg-]')].pop().id.slice(4))")
    nia.page.evaluate(f"() => localStorage.setItem('agentchat-last-read:{nia.name}', '{newest}')")
    nia.page.evaluate("() => { document.hasFocus = () => false; }")  # nia looks elsewhere: nothing more is read
    post_messages(stack, "newsbot", ["while you were away", "more news"])
    nia.page.reload()
    line = nia.page.get_by_role("separator", name="New messages")
    expect(line).to_be_visible()
    assert line.evaluate("el => el.nextElementSibling && el.nextElementSibling.textContent").find(
        "while you were away") >= 0

    # Scrolled up while messages arrive: "Jump to latest" appears and brings the newest back.
    # (a new sender for each batch: the server ignores a repeated client id from the same sender)
    post_messages(stack, "fillbot", [f"filler {i}" for i in range(30)])
    expect(nia.message("filler 29")).to_be_visible(timeout=90_000)  # a burst: generous on a busy machine
    nia.log().evaluate("el => { el.scrollTop = el.scrollHeight - el.clientHeight - 600; }")
    jump = nia.page.locator("#jump-latest")
    expect(jump).to_be_hidden()
    post_messages(stack, "breakbot", ["breaking news"])
    expect(jump).to_be_visible(timeout=60_000)
    jump.click()
    expect(jump).to_be_hidden()
    expect(nia.message("breaking news")).to_be_in_viewport()


def test_desktop_notification_for_a_mention_while_hidden(people, stack):
    ola = people("ola")
    ola.context.grant_permissions(["notifications"])
    ola.page.get_by_role("button", name="Notification settings").click()
    expect(ola.page.get_by_role("radio", name="Mentions and direct messages")).to_be_checked()
    ola.page.keyboard.press("Escape")
    ola.page.wait_for_timeout(1600)  # what was on screen at load is history
    ola.page.evaluate("""() => {
        window.__shown = [];
        window.Notification = class { constructor(title, opts) { window.__shown.push([title, opts.body]); }
                                      static get permission() { return 'granted'; } };
        Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
    }""")
    post_messages(stack, "pal", ["nobody in particular", f"@{ola.name} can you look?"])
    expect(ola.message("can you look?")).to_be_visible()
    ola.page.wait_for_function("() => window.__shown.length > 0")
    ola.page.wait_for_timeout(300)  # nothing else follows
    shown = ola.page.evaluate("() => window.__shown")
    assert shown == [["pal mentioned you", f"@{ola.name} can you look?"]]


def _audit(page: Page, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5]) for v in bad)
    (ARTIFACTS / f"axe-{name}.txt").write_text(results.generate_report() if bad else "no serious violations\n")
    assert not bad, f"{name}:\n{report}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_audit(people, admin, browser, stack, scheme):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    guest = people("guest", sign_up=False, color_scheme=scheme)
    guest.page.goto("/login")
    expect(guest.page.get_by_role("button", name="Sign in")).to_be_visible()
    _audit(guest.page, f"login-{scheme}")

    pia = people("pia", color_scheme=scheme)
    errors = console_errors(pia.page)
    pia.send("An audit with a link: https://example.com/a11y")
    pia.send("and a list:\n- one\n- two")
    pia.send("@tasks add Check contrast")
    expect(pia.page.locator(".message.from-agent", has_text="Check contrast").last).to_be_visible()
    _audit(pia.page, f"chat-{scheme}")
    assert errors == [], errors

    context = browser.new_context(base_url=stack.base_url, color_scheme=scheme)
    page = context.new_page()
    signin(page, admin.name, PASSWORD)
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
    _audit(page, f"admin-{scheme}")
    context.close()


PHONE = {"width": 390, "height": 844}


def test_screenshots_of_rich_messages(people, browser, stack, tmp_path):
    """For docs/app.md: rich messages, a thumbnail, a preview, grouping; light, dark and phone."""
    from PIL import Image

    rae = people("rae", exact=True, viewport={"width": 1280, "height": 900})
    uma = people("uma", exact=True)
    uma.send("Morning @rae! The numbers for the review:")
    table = tmp_path / "q3.csv"
    table.write_text("region,revenue,growth\nnorth,120,4%\nsouth,95,7%\neast,143,2%\nwest,88,11%\n")
    attach(uma.page, table)
    uma.send("Here they are as a file too")
    picture = tmp_path / "chart.png"
    image = Image.new("RGB", (320, 180), (245, 245, 250))
    for x in range(4):
        for y in range(40 + 30 * x, 170):
            for dx in range(40):
                image.putpixel((30 + 70 * x + dx, y), (110, 86, 207))
    image.save(picture)
    attach(rae.page, picture)
    rae.send("Thanks! The chart, and the query I used:\n```sql\nselect region, sum(revenue)\nfrom sales group by region;\n```")
    rae.send("Details: https://example.com/q3-review\n- north is steady\n- **west** grew fastest")
    rae.page.get_by_role("button", name="Preview q3.csv").last.click()
    expect(rae.page.locator(".attachment-preview").last).to_be_visible()
    rae.page.mouse.move(0, 0)
    rae.log().evaluate("el => { el.scrollTop = el.scrollHeight; }")
    rae.page.wait_for_timeout(400)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rae.page.screenshot(path=str(ARTIFACTS / "rich-light.png"))

    for scheme, viewport in (("dark", {"width": 1280, "height": 900}), ("light", PHONE), ("dark", PHONE)):
        context = browser.new_context(base_url=stack.base_url, color_scheme=scheme, viewport=viewport)
        page = context.new_page()
        signin(page, "rae", PASSWORD)
        expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
        expect(page.locator("img.attachment-thumb").last).to_be_visible()
        page.wait_for_function("() => { const i = [...document.querySelectorAll('img.attachment-thumb')].pop(); "
                               "return i && i.complete && i.naturalWidth > 0; }")
        page.wait_for_timeout(400)
        name = f"rich-{scheme}" if viewport["width"] > 400 else f"rich-phone-{scheme}"
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        if name == "rich-dark":
            page.get_by_role("button", name="Notification settings").click()
            expect(page.get_by_role("radio", name="All messages")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "notify-dark.png"))
        context.close()
