"""The built-in agents (helper, tasks, files) over real sockets against a real server."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image

from agentchat_client.protocol import AgentState, MessageType
from server.runtime import ServerRuntime
from tests.support import chat_client, running_server
from server.store import Attachment



@pytest_asyncio.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServerRuntime]:
    async with running_server(tmp_path) as rt:
        yield rt


client = chat_client


async def upload(rt: ServerRuntime, name: str, content_type: str, body: bytes) -> str:
    """Store a file the way the app's upload endpoint does: generated name, metadata row."""
    file_id = secrets.token_hex(16)
    folder = rt.settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_id).write_bytes(body)
    await rt.manager.store.add_attachment(
        Attachment(id=file_id, name=name, size=len(body), content_type=content_type, stored_name=file_id,
                   uploader="alice")
    )
    return file_id


@pytest.mark.asyncio
async def test_builtins_are_listed_and_report_a_status(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice:
        assert {"helper", "tasks", "files"} <= set(alice.welcome["agents"])
        members = {m["userId"]: m for m in alice.welcome["members"]}
        assert members["helper"]["isAgent"] and members["helper"]["status"] == "online"
        await alice.expect(MessageType.STATUS_UPDATE, userId="helper", status=AgentState.IDLE)
        await alice.expect(MessageType.STATUS_UPDATE, userId="tasks")


@pytest.mark.asyncio
async def test_helper_answers_mention_and_help_command(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice:
        sent = await alice.say("@helper what can you do?")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])
        assert "@tasks" in answer["text"] and "@files" in answer["text"] and "/task" in answer["text"]
        assert answer["agentStatus"] == AgentState.COMPLETED

        sent = await alice.say("/help tasks")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])
        assert "/task add" in answer["text"]

        sent = await alice.say("/help nobody")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])
        assert "no agent named nobody here" in answer["text"]


@pytest.mark.asyncio
async def test_tasks_board_progress_reaches_every_client(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice, client(runtime, "bob") as bob:
        sent = await alice.say("/task add Ship v1 @bob")
        added = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        assert "Added #1 Ship v1, assigned to @bob" in added["text"]
        sent = await alice.say("@tasks add Write docs")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        for peer in (alice, bob):
            await peer.expect(MessageType.STATUS_UPDATE, userId="tasks", currentTask="0 of 2 tasks done", progress=0)

        sent = await bob.say("/task done 1")  # bob's own task: no confirmation needed
        done = await bob.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        assert "Done: #1 Ship v1" in done["text"]
        for peer in (alice, bob):
            await peer.expect(MessageType.STATUS_UPDATE, userId="tasks", status=AgentState.WORKING,
                              currentTask="1 of 2 tasks done", progress=50)

        sent = await alice.say("/task start 2")
        started = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        assert "in progress (@alice)" in started["text"]
        sent = await alice.say("/task done #2")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        for peer in (alice, bob):
            await peer.expect(MessageType.STATUS_UPDATE, userId="tasks", status=AgentState.COMPLETED, progress=100)

        sent = await alice.say("/tasks all")
        listing = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        assert "#1 [done] Ship v1" in listing["text"] and "#2 [done] Write docs" in listing["text"]


@pytest.mark.asyncio
async def test_tasks_explains_bad_input_without_getting_stuck(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice:
        for text, expected in [
            ("/task add", "needs a title"),
            ("/task done 99", "no task #99"),
            ("/task assign 1 bob", "/task assign <id> @name"),
            ("/task fly", "I don't know `fly`"),
        ]:
            sent = await alice.say(text)
            answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
            assert expected in answer["text"], answer["text"]
        assert not alice.matching(MessageType.STATUS_UPDATE, userId="tasks", status=AgentState.STUCK)


@pytest.mark.asyncio
async def test_tasks_asks_before_deleting_and_goes_on_with_the_answer(runtime: ServerRuntime) -> None:
    async with client(runtime, "alice") as alice, client(runtime, "bob") as bob:
        await alice.say("/task add Ship v1")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", where=lambda d: "Added #1" in d["text"])
        sent = await alice.say("/task delete 1")
        question = await alice.expect(MessageType.AGENT_QUESTION, agent="tasks", to="alice", replyTo=sent["id"])
        assert question["choices"] == ["Delete", "Cancel"] and "Ship v1" in question["text"]
        await alice.expect(MessageType.STATUS_UPDATE, userId="tasks", currentTask="Waiting for alice to confirm")

        await bob.send(MessageType.QUESTION_ANSWER, {"questionId": question["questionId"], "answer": "Delete"})
        refused = await bob.expect(MessageType.ERROR, code="FORBIDDEN")
        assert "for alice" in refused["message"]

        await alice.send(MessageType.QUESTION_ANSWER, {"questionId": question["questionId"], "answer": "Delete"})
        closed = await bob.expect(MessageType.QUESTION_CLOSED, questionId=question["questionId"])
        assert closed["status"] == "answered" and closed["answeredBy"] == "alice"
        deleted = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"],
                                     where=lambda d: d["text"].startswith("Deleted"))
        assert "Deleted #1 Ship v1" in deleted["text"]
        await alice.expect(MessageType.STATUS_UPDATE, userId="tasks", currentTask="No tasks on the board")


@pytest.mark.asyncio
async def test_files_describes_csv_image_and_text(runtime: ServerRuntime, tmp_path: Path) -> None:
    csv_id = await upload(runtime, "report.csv", "text/csv", b"name,score,team\nann,3,red\nbob,5,blue\ncid,4,red\n")
    image_path = tmp_path / "pic.png"
    Image.new("RGB", (64, 32), "red").save(image_path)
    png_id = await upload(runtime, "pic.png", "image/png", image_path.read_bytes())
    txt_id = await upload(runtime, "notes.txt", "text/plain", b"first line\nsecond line\nthird line\n")

    async with client(runtime, "alice") as alice:
        sent = await alice.say("@files what are these?", attachments=[csv_id, png_id])
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="files", replyTo=sent["id"])
        text = answer["text"]
        assert "**report.csv**: text/csv" in text
        assert "CSV: 4 lines (3 data rows), 3 columns" in text and "Columns: name, score, team" in text
        assert "Image: 64 × 32 px, PNG" in text
        assert answer["agentStatus"] == AgentState.COMPLETED

        # Files sent without mentioning any agent are described too.
        sent = await alice.say("", attachments=[txt_id])
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="files", replyTo=sent["id"])
        assert "Text: 3 lines" in answer["text"] and "first line" in answer["text"]

        # @files in a reply looks at the files of the message replied to.
        sent = await alice.say("@files again please", replyTo=sent["id"])
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="files", replyTo=sent["id"])
        assert "notes.txt" in answer["text"]

        # Nothing attached: a clear hint, not a failure.
        sent = await alice.say("@files hello")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="files", replyTo=sent["id"])
        assert "Attach a file" in answer["text"]


@pytest.mark.asyncio
async def test_files_stays_quiet_when_files_are_for_another_agent(runtime: ServerRuntime) -> None:
    txt_id = await upload(runtime, "notes.txt", "text/plain", b"hello\n")
    async with client(runtime, "alice") as alice:
        sent = await alice.say("@helper look", attachments=[txt_id])
        await alice.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])
        probe = await alice.say("@files hi")
        await alice.expect(MessageType.AGENT_RESPONSE, sender="files", replyTo=probe["id"])
        assert not alice.matching(MessageType.AGENT_RESPONSE, sender="files", replyTo=sent["id"])


@pytest.mark.asyncio
async def test_agents_repeat_peoples_words_inertly(runtime: ServerRuntime) -> None:
    """``/task add [re-login](https://evil.example)`` must not become a link in the agent's own message."""
    async with client(runtime, "alice") as alice:
        sent = await alice.say("/task add [re-login](https://evil.example) **now**")
        answer = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        assert "\\[re-login\\](https\u2060://evil.example) \\*\\*now\\*\\*" in answer["text"]
        assert "](https://" not in answer["text"]
        sent = await alice.say("/task list")
        listing = await alice.expect(MessageType.AGENT_RESPONSE, sender="tasks", replyTo=sent["id"])
        assert r"\[re-login\]" in listing["text"] and "](https://" not in listing["text"]
