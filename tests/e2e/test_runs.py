"""Agent runs in the browser: steps appear live and fold, an approval card approves, the run goes on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from agentchat_client import AgentClient, ParsedMessage
from agentchat_client.runs import Tool
from playwright.sync_api import expect

from server.auth import issue_token

from .conftest import shot, signin


@pytest.fixture
def builder(stack) -> Iterator[dict[str, object]]:
    """A ``builder`` agent in its own thread: plans, lints, then deploys once the room approves."""
    loop = asyncio.new_event_loop()
    token = issue_token(stack.env["AGENTCHAT_JWT_SECRET"], "builder", "agent")
    state: dict[str, object] = {"deployed": 0, "approver": ""}
    holder: dict[str, AgentClient] = {}
    planned = threading.Event()

    async def lint(path: str) -> dict[str, object]:
        return {"path": path, "warnings": 0, "checked": [f"file_{i}.py" for i in range(30)]}

    async def deploy(env: str) -> str:
        state["deployed"] = int(state["deployed"]) + 1  # type: ignore[call-overload]
        return f"deployed to {env}"

    async def main() -> None:
        agent = AgentClient(stack.server_url, "builder", token, tools=[
            Tool.from_function(lint, changes=False), Tool.from_function(deploy)],
            policies={"deploy": {"policy": "ask", "approve": "requester"}})
        holder["agent"] = agent

        @agent.on_message
        async def answer(msg: ParsedMessage) -> None:
            run = agent.current_run
            async with run.step("Check the code"):
                await run.tool_call("lint", {"path": "src/"})
            planned.set()
            async with run.step("Ship"):
                result = await run.tool_call("deploy", {"env": "staging"}, reason="Ship the release to staging")
            async with run.message() as text:
                for word in ("Shipped: ", result, "."):
                    await text.write(word)
            await agent.reply(msg, f"Shipped: {result}.")

        await agent.start()

    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(20), "the builder agent did not connect"
    state["planned"] = planned
    yield state
    asyncio.run_coroutine_threadsafe(holder["agent"].close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_steps_appear_live_an_approval_card_approves_and_the_run_folds(people, builder):
    ria = people("ria")
    sam = people("sam")
    ria.send("@builder ship the release")

    live = ria.page.locator('.live-run[data-agent="builder"]')
    expect(live).to_be_visible()
    expect(live.locator(".run-step", has_text="Check the code")).to_be_visible()  # live, before the answer
    expect(live.locator(".run-tool", has_text="lint")).to_contain_text("done")

    card = ria.page.locator(".approval-card").last
    expect(card).to_contain_text("builder asks to run")
    expect(card).to_contain_text("Ship the release to staging")
    expect(card.locator("pre")).to_contain_text('"env": "staging"')
    waiting = sam.page.locator(".approval-card").last
    expect(waiting).to_contain_text(f"Waiting for approval from {ria.name}")
    expect(waiting.get_by_role("button", name="Approve")).to_have_count(0)
    expect(live.locator(".run-tool", has_text="deploy")).to_contain_text("waiting for approval")
    shot(ria.page, "run-waiting-for-approval")
    assert builder["deployed"] == 0

    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text(f"Approved by {ria.name}")
    expect(waiting).to_contain_text(f"Approved by {ria.name}")

    answer = ria.page.locator('.message.from-agent[data-sender="builder"]', has_text="Shipped: deployed to staging")
    expect(answer).to_be_visible()
    expect(live).to_have_count(0)  # the run now lives under its answer
    steps = answer.locator(".run-steps")
    expect(steps).to_contain_text("2 steps · 2 tool calls")
    expect(steps).not_to_have_attribute("open", "")  # folded
    expect(steps.locator(".run-tool").first).to_be_hidden()
    steps.locator("summary.run-summary").click()
    deploy = steps.locator(".run-tool", has_text="deploy")
    expect(deploy).to_be_visible()
    expect(deploy).to_contain_text("deployed to staging")
    lint = steps.locator(".run-tool", has_text="lint")
    expect(lint.get_by_text("Show all")).to_be_visible()  # a long result folds
    shot(ria.page, "run-steps-open")
    assert builder["deployed"] == 1

    # Someone who comes later sees the answer, and loads its steps on demand.
    tom = people("tom")
    old = tom.page.locator('.message.from-agent[data-sender="builder"]', has_text="Shipped: deployed to staging")
    expect(old).to_be_visible()
    old.get_by_role("button", name="Show the steps of this answer").click()
    expect(old.locator(".run-steps")).to_contain_text("2 steps · 2 tool calls")
    old.locator(".run-steps summary.run-summary").click()
    expect(old.locator(".run-tool", has_text="deploy")).to_contain_text("deployed to staging")

    # Admins read every request and decision in the audit log.
    admin = people.admin
    admin.page.goto("/admin")
    log = admin.page.locator(".audit-log")
    sign_in = admin.page.get_by_role("button", name="Sign in")
    expect(log.or_(sign_in)).to_be_visible()
    if sign_in.is_visible():  # other tests may have ended the admin's session
        signin(admin.page, admin.name)
        admin.page.wait_for_url("**/")
        admin.page.goto("/admin")
    expect(log).to_be_visible()
    expect(log.locator("tr", has_text="closed: approved").first).to_contain_text(ria.name)
    expect(log.locator("tr", has_text="asked").first).to_contain_text("deploy")
    shot(admin.page, "admin-approvals-audit")
