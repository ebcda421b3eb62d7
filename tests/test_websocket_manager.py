"""WebSocketManager as the agent system uses it: handlers, send_message from any thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.websocket_manager import WebSocketManager
from server.message_parser import MessageParser, ParsedMessage
from server.settings import Settings
from tests.support import SECRET, connect_as


class LoopThread:
    """An event loop in a background thread, as an agent system would host the server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):  # noqa: ANN001, ANN201
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture()
def hosted(tmp_path: Path) -> Iterator[tuple[WebSocketManager, LoopThread]]:
    settings = Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET, agents_enabled=False,
                        response_delay_seconds=0)
    manager = WebSocketManager(settings=settings)
    host = LoopThread()
    host.run(manager.start_server())
    yield manager, host
    host.run(manager.stop_server())
    host.close()


def test_send_message_from_a_plain_thread(hosted: tuple[WebSocketManager, LoopThread]) -> None:
    manager, host = hosted
    assert manager.is_connected()

    client = host.run(connect_as(manager.url, "listener"))  # connected before anything is sent
    # Send from a plain (non-loop) thread, like old Telegram code.
    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(manager.send_message("review done", sender_name="alice")))
    worker.start()
    worker.join(30)
    assert results == [True]
    got = host.run(client.expect("agent_response", sender="alice", timeout=30))
    host.run(client.close())
    assert got["text"] == "review done"
    assert isinstance(got["id"], int)


def test_send_message_inside_the_loop_and_handlers(hosted: tuple[WebSocketManager, LoopThread]) -> None:
    manager, host = hosted
    seen_sync: list[ParsedMessage] = []
    seen_async: list[ParsedMessage] = []

    def broken(_: ParsedMessage) -> None:
        raise RuntimeError("this handler is broken")

    def sync_handler(message: ParsedMessage) -> None:
        seen_sync.append(message)
        # Old-style agents answer synchronously from the handler.
        manager.send_message(f"echo: {message.text}", sender_name="echo", reply_to=message.message_id)

    async def async_handler(message: ParsedMessage) -> None:
        seen_async.append(message)
        assert manager.send_message("async hello", sender_name="asyncbot")  # called inside the loop

    manager.add_message_handler(broken)
    manager.add_message_handler(sync_handler)
    manager.add_message_handler(async_handler)

    async def scenario() -> tuple[dict, dict, dict]:
        client = await connect_as(manager.url, "bob")
        sent = await client.say("/deploy @echo now")
        echo = await client.expect("agent_response", sender="echo", timeout=10)
        other = await client.expect("agent_response", sender="asyncbot", timeout=10)
        await client.close()
        return sent, echo, other

    sent, echo, other = host.run(scenario())
    assert echo["replyTo"] == sent["id"]
    assert echo["text"] == "echo: /deploy @echo now"
    assert other["text"] == "async hello"
    message = seen_sync[0]
    assert message.sender == "bob" and message.is_command and message.command == "deploy"
    assert message.mentions == ["echo"] and message.message_id == sent["id"]
    assert seen_async[0].message_id == sent["id"]


def test_status_update_from_a_thread(hosted: tuple[WebSocketManager, LoopThread]) -> None:
    manager, host = hosted

    client = host.run(connect_as(manager.url, "watcher"))  # connected before anything is sent
    assert manager.send_status_update("alice", "working", "Reviewing login component", 25)
    assert not manager.send_status_update("alice", "sleeping")  # not a status: refused, logged
    got = host.run(client.expect("status_update", userId="alice", status="working", timeout=30))
    host.run(client.close())
    assert got["currentTask"] == "Reviewing login component" and got["progress"] == 25


def test_send_message_when_stopped_returns_false(tmp_path: Path) -> None:
    manager = WebSocketManager(settings=Settings(port=0, data_dir=tmp_path, jwt_secret=SECRET))
    assert manager.is_connected() is False
    assert manager.send_message("nobody hears this") is False


def test_message_parser_matches_document_usage() -> None:
    parsed = MessageParser().parse("/review @alice @bob the login", sender="carol", message_id=7)
    assert parsed.is_command and parsed.command == "review" and parsed.args == "@alice @bob the login"
    assert parsed.mentions == ["alice", "bob"]
    assert parsed.mentions_name("ALICE")
