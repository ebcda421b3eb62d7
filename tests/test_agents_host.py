"""AgentManager over real sockets: concurrency, failures, stop, questions, Telegram-era agents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from server.agents import Agent
from agentchat_client import ParsedMessage
from agentchat_client.protocol import AgentState, ErrorCode, MessageType
from server.runtime import ServerRuntime
from tests.support import chat_client, running_server



class SlowAgent(Agent):
    """Works until stopped; records what happened to its task."""

    name = "slow"
    description = "Takes its time."

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.cancelled = False
        self.finished = False

    async def handle(self, msg: ParsedMessage) -> None:
        self.started.set()
        try:
            for step in range(100):
                await self.report(AgentState.WORKING, "Counting slowly", step)
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True


class BoomAgent(Agent):
    name = "boom"
    description = "Always fails."

    async def handle(self, msg: ParsedMessage) -> None:
        raise RuntimeError("secret internal detail")


class AskingAgent(Agent):
    """Asks the sender which colour, then carries on with the answer."""

    name = "painter"
    description = "Paints in the colour you choose."

    async def handle(self, msg: ParsedMessage) -> None:
        colour = await self.ask(msg.sender, "Which colour?", ["red", "blue"], 10, msg.message_id)
        await self.reply(msg, f"Painted it {colour}.")


class HastyAgent(Agent):
    """Asks with a short timeout and goes on without an answer."""

    name = "hasty"
    description = "Does not wait long."

    async def handle(self, msg: ParsedMessage) -> None:
        answer = await self.ask(msg.sender, "Proceed?", ["Yes", "No"], 0.3, msg.message_id)
        await self.reply(msg, "No answer, so I did nothing." if answer is None else f"You said {answer}.")


class TelegramStyleAlice:
    """Written for the old TelegramManager: only add_message_handler, send_message, send_status_update."""

    def __init__(self, telegram_manager) -> None:
        self.telegram = telegram_manager
        self.telegram.add_message_handler(self.handle_message)

    def handle_message(self, message) -> None:
        if "alice" not in message.mentions:
            return
        self.telegram.send_status_update("alice", "working", "Reviewing the login component", 50)
        self.telegram.send_message(f"Got it, {message.sender}! Reviewing now.", sender_name="alice",
                                   reply_to=message.message_id)
        self.telegram.send_status_update("alice", "completed", "Review done", 100)


@pytest_asyncio.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServerRuntime]:
    async with running_server(tmp_path, SlowAgent(), BoomAgent(), AskingAgent(), HastyAgent()) as rt:
        rt.agents.add_telegram_agent("alice", TelegramStyleAlice, "Reviews code (from the Telegram set-up)")
        yield rt


client = chat_client


@pytest.mark.asyncio
async def test_a_slow_agent_blocks_neither_the_chat_nor_other_agents(runtime: ServerRuntime) -> None:
    slow: SlowAgent = runtime.agents.get("slow")
    async with client(runtime, "bob") as bob:
        await bob.say("@slow count to a hundred")
        await asyncio.wait_for(slow.started.wait(), 5)
        sent = await bob.say("@helper hi")
        await bob.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"], timeout=2)
        await bob.expect(MessageType.STATUS_UPDATE, userId="slow", status=AgentState.WORKING, currentTask="Counting slowly")
        assert not slow.finished


@pytest.mark.asyncio
async def test_stopping_a_working_agent_ends_its_task(runtime: ServerRuntime) -> None:
    slow: SlowAgent = runtime.agents.get("slow")
    async with client(runtime, "bob") as bob, client(runtime, "carol") as carol:
        sent = await bob.say("@slow count to a hundred")
        await asyncio.wait_for(slow.started.wait(), 5)
        await carol.send(MessageType.STOP_AGENT, {"agent": "slow"})
        for peer in (bob, carol):
            await peer.expect(MessageType.STATUS_UPDATE, userId="slow", status=AgentState.IDLE,
                              currentTask="Stopped by carol")
        note = await bob.expect(MessageType.AGENT_RESPONSE, sender="slow", replyTo=sent["id"])
        assert note["text"] == "Stopped by carol." and note["agentStatus"] == AgentState.IDLE
        assert slow.cancelled and not slow.finished
        assert not runtime.agents.running["slow"]
        # No more progress after the stop.
        count = len(bob.matching(MessageType.STATUS_UPDATE, userId="slow"))
        await asyncio.sleep(0.3)
        assert len(bob.matching(MessageType.STATUS_UPDATE, userId="slow")) == count

        await carol.send(MessageType.STOP_AGENT, {"agent": "nobody"})
        assert "nobody" in (await carol.expect(MessageType.ERROR, code=ErrorCode.NOT_FOUND))["message"]
    async with client(runtime, "vic", "viewer") as vic:
        await vic.send(MessageType.STOP_AGENT, {"agent": "slow"})
        await vic.expect(MessageType.ERROR, code=ErrorCode.FORBIDDEN)


@pytest.mark.asyncio
async def test_a_raising_agent_is_stuck_and_the_chat_goes_on(runtime: ServerRuntime) -> None:
    async with client(runtime, "bob") as bob:
        sent = await bob.say("@boom go")
        stuck = await bob.expect(MessageType.STATUS_UPDATE, userId="boom", status=AgentState.STUCK)
        assert "RuntimeError" in stuck["currentTask"] and "secret" not in stuck["currentTask"]
        said = await bob.expect(MessageType.AGENT_RESPONSE, sender="boom", replyTo=sent["id"])
        assert said["agentStatus"] == AgentState.STUCK and "secret" not in said["text"]

        again = await bob.say("still there?")
        assert again["id"] > sent["id"]
        sent = await bob.say("@helper hi")
        await bob.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])


@pytest.mark.asyncio
async def test_a_question_is_answered_by_a_person_and_the_agent_carries_on(runtime: ServerRuntime) -> None:
    async with client(runtime, "bob") as bob:
        sent = await bob.say("@painter paint the fence")
        question = await bob.expect(MessageType.AGENT_QUESTION, agent="painter", to="bob", replyTo=sent["id"])
        await bob.send(MessageType.QUESTION_ANSWER, {"questionId": question["questionId"], "answer": "green"})
        await bob.expect(MessageType.ERROR, code=ErrorCode.INVALID_MESSAGE)
        await bob.send(MessageType.QUESTION_ANSWER, {"questionId": question["questionId"], "answer": "blue"})
        answer = await bob.expect(MessageType.AGENT_RESPONSE, sender="painter", replyTo=sent["id"])
        assert answer["text"] == "Painted it blue."
        await bob.expect(MessageType.STATUS_UPDATE, userId="painter", status=AgentState.COMPLETED)


@pytest.mark.asyncio
async def test_an_unanswered_question_times_out_in_the_chat(runtime: ServerRuntime) -> None:
    async with client(runtime, "bob") as bob:
        sent = await bob.say("@hasty shall we?")
        question = await bob.expect(MessageType.AGENT_QUESTION, agent="hasty", to="bob")
        closed = await bob.expect(MessageType.QUESTION_CLOSED, questionId=question["questionId"])
        assert closed["status"] == "timeout"
        notice = await bob.expect(MessageType.AGENT_RESPONSE, sender="hasty", replyTo=sent["id"],
                                  where=lambda d: "did not answer" in d["text"])
        assert "@bob" in notice["text"]
        await bob.expect(MessageType.AGENT_RESPONSE, sender="hasty", replyTo=sent["id"],
                         text="No answer, so I did nothing.")


@pytest.mark.asyncio
async def test_a_telegram_era_agent_runs_unchanged(runtime: ServerRuntime) -> None:
    async with client(runtime, "bob") as bob:
        sent = await bob.say("@alice please review the login component")
        answer = await bob.expect(MessageType.AGENT_RESPONSE, sender="alice", replyTo=sent["id"])
        assert answer["text"] == "Got it, bob! Reviewing now."
        await bob.expect(MessageType.STATUS_UPDATE, userId="alice", status="working", progress=50)
        await bob.expect(MessageType.STATUS_UPDATE, userId="alice", status="completed", currentTask="Review done")
        sent = await bob.say("/help")
        overview = await bob.expect(MessageType.AGENT_RESPONSE, sender="helper", replyTo=sent["id"])
        assert "@alice" in overview["text"] and "@slow" in overview["text"]


@pytest.mark.asyncio
async def test_people_may_not_speak_for_agents(runtime: ServerRuntime) -> None:
    async with client(runtime, "bob") as bob:
        await bob.send(MessageType.AGENT_RESPONSE, {"text": "I am an agent", "agentStatus": "completed"})
        assert "agent_response" in (await bob.expect(MessageType.ERROR, code=ErrorCode.FORBIDDEN))["message"]
        bob.frames.clear()
        await bob.send(MessageType.STATUS_UPDATE, {"userId": "tasks", "status": "stuck"})
        assert "status_update" in (await bob.expect(MessageType.ERROR, code=ErrorCode.FORBIDDEN))["message"]
        bob.frames.clear()
        await bob.send(MessageType.STATUS_UPDATE, {"status": "working"})
        await bob.expect(MessageType.ERROR, code=ErrorCode.FORBIDDEN)
        # Frames are answered in order: anything the earlier ones caused has arrived by now.
        assert not bob.matching(MessageType.AGENT_RESPONSE, text="I am an agent")
        assert not bob.matching(MessageType.STATUS_UPDATE, status="stuck")
