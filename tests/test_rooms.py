"""Rooms, threads, edits, deletes and reactions over real sockets, on SQLite and PostgreSQL.

Nothing of a private room or a DM reaches a non-member by any path (live, history, search,
recovery), and a client that reconnects with ``lastMessageId`` ends with exactly the state of
one that stayed connected.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.support import Client, ServerProcess, connect_as, token


@pytest.fixture(params=["sqlite", "postgresql"])
def chat(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"AGENTCHAT_RESPONSE_DELAY_SECONDS": "0", "AGENTCHAT_MAX_MESSAGES_PER_HOUR": "100000"}
    if request.param == "postgresql":
        env["AGENTCHAT_DATABASE_URL"] = request.getfixturevalue("pg_url")
    server = ServerProcess(tmp_path / "rooms", **env).start()
    yield server
    server.stop()


class Timeline:
    """What a client knows: every message in its current state, by id."""

    def __init__(self) -> None:
        self.messages: dict[int, dict[str, Any]] = {}
        self.last_id = 0

    def apply(self, frame: dict[str, Any]) -> None:
        kind, data = frame["type"], frame.get("data") or {}
        if kind in ("message", "agent_response"):
            self.messages[data["id"]] = {k: data[k] for k in ("roomId", "threadId", "text", "sender", "deleted",
                                                                 "reactions", "replyCount", "editedAt")}
            self.last_id = max(self.last_id, data["id"])
        elif kind == "message_updated":
            current = self.messages.get(data["id"])
            if current is not None:
                current.update({"text": data["text"], "deleted": data["deleted"], "reactions": data["reactions"],
                                "replyCount": data["replyCount"], "editedAt": data["editedAt"]})
            self.last_id = max(self.last_id, data["eventId"])
        elif kind == "history":
            for envelope in data["messages"]:
                self.apply(envelope)


async def drain(client: Client, timeline: Timeline) -> None:
    """Apply everything the server sent up to now, in order (a ping's pong marks the end)."""
    for frame in client.backlog:
        timeline.apply(frame)
    client.backlog.clear()
    await client.send("ping")
    while True:
        frame = await client.next(30)
        if frame["type"] == "pong":
            return
        timeline.apply(frame)


async def _room(client: Client, name: str) -> dict[str, Any]:
    while True:
        data = await client.expect("room")
        if data["room"]["name"] == name:
            return data["room"]


async def test_a_frame_without_room_id_lands_in_general_and_the_original_client_works(chat: ServerProcess) -> None:
    async with websockets.connect(chat.url) as ws:
        await ws.send(json.dumps({"type": "auth", "data": {"userId": "doc", "token": token("doc")}}))
        welcome = json.loads(await ws.recv())
        assert welcome["data"]["success"] and "doc" in welcome["data"]["agents"]
        await ws.send(json.dumps({"type": "message", "data": {"text": "hello, room-less world"}}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if frame["type"] == "message":
                break
        assert frame["data"]["roomId"] == "general" and frame["data"]["sender"] == "doc"


async def test_a_private_room_leaks_by_no_path(chat: ServerProcess) -> None:
    alice = await connect_as(chat.url, "alice")
    bob = await connect_as(chat.url, "bob")
    mallory = await connect_as(chat.url, "mallory")
    rooms = await mallory.expect("rooms")
    assert [r["roomId"] for r in rooms["rooms"]] == ["general"]

    await alice.send("room_create", {"name": "Secret plans", "kind": "private", "members": ["bob"]})
    room = await _room(alice, "Secret plans")
    assert (await _room(bob, "Secret plans"))["roomId"] == room["roomId"]
    rid = room["roomId"]
    said = await alice.say("the launch code is zebra", roomId=rid)
    await bob.expect("message", id=said["id"])
    await alice.say("zebra crossing in general too")

    for kind, data in (
        ("message", {"text": "let me in", "roomId": rid}),
        ("history", {"roomId": rid}),
        ("search", {"query": "zebra", "roomId": rid}),
        ("typing", {"typing": True, "roomId": rid}),
        ("room_join", {"roomId": rid}),
        ("room_invite", {"roomId": rid, "userId": "mallory"}),
        ("room_read", {"roomId": rid, "lastReadId": said["id"]}),
        ("message_edit", {"id": said["id"], "text": "mine now"}),
        ("reaction", {"id": said["id"], "emoji": "👀"}),
    ):
        await mallory.send(kind, data)
        error = await mallory.expect("error")
        assert error["code"] in ("FORBIDDEN", "NOT_FOUND"), (kind, error)

    await mallory.send("search", {"query": "zebra"})
    found = await mallory.expect("search")
    assert [m["data"]["text"] for m in found["messages"]] == ["zebra crossing in general too"]

    # Recovery: mallory reconnects from before the secret and gets only what she may see.
    back = await Client.connect(chat.url)
    await back.auth("mallory", last_message_id=said["id"] - 1)
    await back.expect("recovery")
    seen = await back.quiet(1.0)
    texts = [f["data"].get("text") for f in [*mallory.backlog, *seen] if f["type"] in ("message", "message_updated")]
    assert "the launch code is zebra" not in texts and "zebra crossing in general too" in texts
    live = [f for f in await mallory.quiet(0.5) if f.get("data", {}).get("roomId") == rid]
    assert live == []
    for client in (alice, bob, mallory, back):
        await client.close()


async def test_direct_messages_are_one_room_per_pair(chat: ServerProcess) -> None:
    ann = await connect_as(chat.url, "ann")
    ben = await connect_as(chat.url, "ben")
    eve = await connect_as(chat.url, "eve")
    await ann.send("dm_open", {"userId": "ben"})
    room = (await ann.expect("room"))["room"]
    assert room["kind"] == "dm" and room["members"] == ["ann", "ben"]
    await ben.send("dm_open", {"userId": "ann"})
    again = (await ben.expect("room"))["room"]
    assert again["roomId"] == room["roomId"], "the same DM, whoever opens it"
    sent = await ann.say("just between us", roomId=room["roomId"])
    await ben.expect("message", id=sent["id"])
    await eve.send("history", {"roomId": room["roomId"]})
    assert (await eve.expect("error"))["code"] == "FORBIDDEN"
    assert [f for f in await eve.quiet(0.5) if f["type"] == "message" and f["data"]["id"] == sent["id"]] == []
    for client in (ann, ben, eve):
        await client.close()


async def test_threads_count_their_replies_live_and_page(chat: ServerProcess) -> None:
    poster = await connect_as(chat.url, "poster")
    watcher = await connect_as(chat.url, "watcher")
    root = await poster.say("shall we ship on friday?")
    replies = [await watcher.say(f"reply {i}", threadId=root["id"]) for i in range(3)]
    assert all(r["threadId"] == root["id"] for r in replies)
    update = None
    for _ in range(3):
        update = await poster.expect("message_updated", id=root["id"])
    assert update is not None and update["replyCount"] == 3 and update["lastReplyAt"]
    assert update["eventId"] > replies[-1]["id"], "updates take ids from the message sequence"
    await poster.send("history", {"threadId": root["id"]})
    page = await poster.expect("history", threadId=root["id"])
    assert [m["data"]["text"] for m in page["messages"]] == ["reply 0", "reply 1", "reply 2"]
    await poster.send("history", {})
    timeline = await poster.expect("history", beforeId=None, threadId=None)
    texts = [m["data"]["text"] for m in timeline["messages"]]
    assert "shall we ship on friday?" in texts and "reply 0" not in texts, "replies stay in their thread"
    shown = next(m["data"] for m in timeline["messages"] if m["data"]["id"] == root["id"])
    assert shown["replyCount"] == 3
    await watcher.send("message", {"text": "nested?", "threadId": replies[0]["id"]})
    assert "not to a reply" in (await watcher.error("INVALID_MESSAGE"))["message"]
    await poster.close()
    await watcher.close()


async def test_edit_delete_react_follow_the_rules(chat: ServerProcess) -> None:
    alice = await connect_as(chat.url, "e_alice")
    bob = await connect_as(chat.url, "e_bob")
    viewer = await connect_as(chat.url, "e_viewer", "viewer")
    admin = await connect_as(chat.url, "e_admin", "admin")
    mine = await alice.say("helo wrold")
    await alice.send("message_edit", {"id": mine["id"], "text": "hello world"})
    edited = await bob.expect("message_updated", id=mine["id"])
    assert edited["text"] == "hello world" and edited["editedAt"] and edited["by"] == "e_alice"
    await bob.send("message_edit", {"id": mine["id"], "text": "bob was here"})
    assert (await bob.error("FORBIDDEN"))["message"] == "You can only edit your own messages"
    await viewer.send("reaction", {"id": mine["id"], "emoji": "👍"})
    await viewer.error("FORBIDDEN")
    await bob.send("reaction", {"id": mine["id"], "emoji": "👍"})
    await admin.send("reaction", {"id": mine["id"], "emoji": "👍"})
    await bob.send("reaction", {"id": mine["id"], "emoji": "🎉"})
    await bob.send("reaction", {"id": mine["id"], "emoji": "🎉", "op": "remove"})
    last = None
    for _ in range(5):  # the edit, then four reactions
        last = await alice.expect("message_updated", id=mine["id"])
    assert last is not None and {k: sorted(v) for k, v in last["reactions"].items()} == {"👍": ["e_admin", "e_bob"]}
    await bob.send("message_delete", {"id": mine["id"]})
    await bob.error("FORBIDDEN")
    await admin.send("message_delete", {"id": mine["id"]})
    gone = await alice.expect("message_updated", id=mine["id"], deleted=True)
    assert gone["text"] == "" and gone["reactions"] == {}
    await alice.send("message_edit", {"id": mine["id"], "text": "undo"})
    assert "deleted" in (await alice.error("INVALID_MESSAGE"))["message"]
    await alice.send("history", {})
    page = await alice.expect("history", beforeId=None)
    tomb = next(m["data"] for m in page["messages"] if m["data"]["id"] == mine["id"])
    assert tomb["deleted"] is True and tomb["text"] == "", "history shows the current state"
    for client in (alice, bob, viewer, admin):
        await client.close()


async def test_a_reconnecting_client_ends_exactly_like_one_that_stayed(chat: ServerProcess) -> None:
    talker = await connect_as(chat.url, "r_talker")
    stayer = await connect_as(chat.url, "r_stayer")
    leaver = await connect_as(chat.url, "r_leaver")
    stayed, left = Timeline(), Timeline()
    for client, timeline in ((stayer, stayed), (leaver, left)):
        timeline.apply({"type": "history", "data": client.initial_history})
        for frame in client.backlog:
            timeline.apply(frame)
        client.backlog.clear()
    base = [await talker.say(f"base {i}") for i in range(4)]
    await drain(leaver, left)
    await leaver.close()

    # While the leaver is away: messages, edits, a delete, reactions, a thread.
    extra = [await talker.say(f"while away {i}") for i in range(3)]
    await talker.send("message_edit", {"id": base[0]["id"], "text": "base 0 (edited)"})
    await talker.send("message_edit", {"id": extra[0]["id"], "text": "while away 0 (edited)"})
    await talker.send("message_delete", {"id": base[1]["id"]})
    await stayer.send("reaction", {"id": base[2]["id"], "emoji": "✅"})
    await stayer.send("reaction", {"id": extra[1]["id"], "emoji": "🔥"})
    await stayer.send("reaction", {"id": extra[1]["id"], "emoji": "🔥", "op": "remove"})
    await stayer.send("message", {"text": "a reply", "threadId": base[3]["id"]})  # its echo stays in the queue
    await talker.say("last word")
    await drain(stayer, stayed)

    back = await Client.connect(chat.url)
    await back.auth("r_leaver", last_message_id=left.last_id)
    info = await back.expect("recovery")
    assert info["truncated"] is False
    await drain(back, left)
    await drain(stayer, stayed)
    assert left.messages == stayed.messages
    for client in (talker, stayer, back):
        await client.close()


async def test_read_positions_follow_the_person_across_tabs_and_reloads(chat: ServerProcess) -> None:
    writer = await connect_as(chat.url, "u_writer")
    tab1 = await connect_as(chat.url, "u_reader")
    tab2 = await connect_as(chat.url, "u_reader")
    sent = [await writer.say(f"hey @u_reader {i}" if i == 2 else f"news {i}") for i in range(4)]
    await tab1.send("room_read", {"roomId": "general", "lastReadId": sent[1]["id"]})
    read = await tab2.expect("room_read", roomId="general")
    assert read["lastReadId"] == sent[1]["id"], "the other tab learns it too"
    reload = await Client.connect(chat.url)
    await reload.auth("u_reader")
    general = next(r for r in (await reload.expect("rooms"))["rooms"] if r["roomId"] == "general")
    assert (general["unread"], general["mentions"], general["lastReadId"]) == (2, 1, sent[1]["id"])
    await tab1.send("room_read", {"roomId": "general", "lastReadId": sent[0]["id"]})
    assert (await tab2.expect("room_read", roomId="general"))["lastReadId"] == sent[1]["id"], "never backwards"
    for client in (writer, tab1, tab2, reload):
        await client.close()


async def test_agents_hear_only_their_rooms_in_their_mode(chat: ServerProcess) -> None:
    lead = await connect_as(chat.url, "a_lead")
    await lead.send("room_create", {"name": "Ops", "kind": "private"})
    ops = await _room(lead, "Ops")
    ask = await lead.say("@helper are you there?", roomId=ops["roomId"])
    assert [f for f in await lead.quiet(2.0) if f["type"] == "agent_response" and f["data"]["replyTo"] == ask["id"]] == []

    await lead.send("room_invite", {"roomId": ops["roomId"], "userId": "helper"})
    await _room(lead, "Ops")
    ask = await lead.say("@helper are you there now?", roomId=ops["roomId"])
    answer = await lead.expect("agent_response", sender="helper", replyTo=ask["id"])
    assert answer["roomId"] == ops["roomId"], "it answers in the room it was asked in"

    root = await lead.say("a thread about help", roomId=ops["roomId"])
    ask = await lead.say("@helper what can tasks do?", roomId=ops["roomId"], threadId=root["id"])
    answer = await lead.expect("agent_response", sender="helper", replyTo=ask["id"])
    assert answer["threadId"] == root["id"], "mentioned in a thread, it answers in the thread"

    quiet = await lead.say("@here lunch?", roomId=ops["roomId"])
    assert [f for f in await lead.quiet(1.5) if f["type"] == "agent_response" and f["data"]["replyTo"] == quiet["id"]] == []

    await lead.send("room_agent_mode", {"roomId": ops["roomId"], "agent": "helper", "mode": "off"})
    await _room(lead, "Ops")
    ask = await lead.say("@helper hello?", roomId=ops["roomId"])
    assert [f for f in await lead.quiet(1.5) if f["type"] == "agent_response" and f["data"]["replyTo"] == ask["id"]] == []
    await lead.close()
