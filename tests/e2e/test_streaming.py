"""An out-of-process agent streams an answer: it grows in place, then the final one replaces it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from agentchat_client import AgentClient, ParsedMessage
from server.auth import issue_token

from .conftest import shot

WORDS = ["Here ", "is ", "a ", "streamed ", "answer "]
FINAL = "Here is a **streamed** answer.\n\n```python\nprint('done')\n```"


@pytest.fixture
def writer(stack) -> Iterator[tuple[threading.Event, threading.Event]]:
    """A ``writer`` agent in its own thread; the test paces it with two events (more, finish)."""
    release, more = threading.Event(), threading.Event()
    loop = asyncio.new_event_loop()
    token = issue_token(stack.env["AGENTCHAT_JWT_SECRET"], "writer", "agent")
    holder: dict[str, AgentClient] = {}

    async def main() -> None:
        agent = AgentClient(stack.server_url, "writer", token, auto_status=False)
        holder["agent"] = agent

        @agent.on_message
        async def answer(msg: ParsedMessage) -> None:
            stream_id = agent.new_stream_id()
            for index, word in enumerate(WORDS, start=1):
                await agent.stream(stream_id, word, msg.message_id)
                await agent.status("working", "Writing an answer", progress=index * 100 / (len(WORDS) + 1))
                if index == 1:  # the test looks at the first piece before the rest comes
                    while not more.is_set():
                        await asyncio.sleep(0.05)
                await asyncio.sleep(0.2)
            while not release.is_set():
                await asyncio.sleep(0.05)
            await agent.reply(msg, FINAL, stream_id=stream_id)
            await agent.status("completed", "Answer sent", progress=100)

        await agent.start()

    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20), "the writer agent did not connect"
    yield more, release
    more.set()
    release.set()
    asyncio.run_coroutine_threadsafe(holder["agent"].close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_streamed_answer_grows_in_place_with_progress(people, writer):
    uma = people("uma")
    more, finish = writer
    uma.send("@writer please draft the announcement")
    growing = uma.page.locator(".message", has_text="Here")
    expect(growing).to_be_visible()
    expect(growing.get_by_text("writing…")).to_be_visible()
    bar = uma.page.locator('[data-member="writer"]').get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "17")
    more.set()
    expect(growing).to_contain_text("Here is a streamed answer")  # it grew in place
    expect(bar).to_have_attribute("aria-valuenow", "83")
    shot(uma.page, "streaming-light")
    finish.set()
    final = uma.page.locator(".message.from-agent", has_text="print('done')")
    expect(final).to_be_visible()
    expect(final.locator("strong", has_text="streamed")).to_be_visible()
    expect(uma.page.get_by_text("writing…")).to_have_count(0)
    expect(uma.page.locator(".message", has_text="Here is a")).to_have_count(1)
