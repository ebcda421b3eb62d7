"""``tasks``: the team task board, driven from the chat.

Every change posts a ``status_update`` whose ``progress`` is the share of tasks done, so the
whole team sees the board move.  Destructive or surprising changes (deleting, clearing, finishing
someone else's task) ask the requester to confirm first: the human-in-the-loop flow.  Every change
is a tool call of the run (``add_task``, ``assign_task``...), so the room sees what changed; they
run without an approval (the person asked for them), unless ``tool_policies.tasks`` says ``ask``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from agentchat_client.message import ParsedMessage
from agentchat_client.protocol import AgentState, is_valid_username
from agentchat_client.runs import Tool, ToolPolicy
from ...settings import Settings
from ...store import Task
from ..base import Agent, Status, UsageError, snippet, strip_mention
from ..text import inert, plural
from .taskboard import BoardSummary, TaskBoard, TaskState

__all__ = ["TasksAgent"]

CONFIRM_TIMEOUT = 120.0
MAX_TITLE = 200
MAX_LISTED = 30
USAGE = (
    "`/task add <title> [@name]`: add a task (optionally assigned)\n"
    "`/task list` (or `/tasks`), `/task list all`, `/task mine`: show the board\n"
    "`/task assign <id> @name`, `/task start <id>`, `/task done <id>`, `/task reopen <id>`\n"
    "`/task delete <id>`, `/task clear` (removes done tasks): both ask you to confirm\n"
    "The same words work after a mention: `@tasks add Ship v1 @bob`."
)
_ID = re.compile(r"^#?(\d{1,12})$")
T = TypeVar("T")
_ASKED_FOR = ToolPolicy("allow")
"""The person's command is the request: no approval unless the config asks for one."""


def _change(name: str, description: str) -> Tool:
    return Tool(name, description=description, changes=True, policy=_ASKED_FOR)


def _view(value: Any) -> Any:
    """What a board change returned, as its tool result shows it."""
    if isinstance(value, Task):
        return {"id": value.id, "title": value.title, "state": value.state, "assignee": value.assignee}
    if value is None:
        return {"found": False}
    return value
_TRAILING_ASSIGNEE = re.compile(r"\s+@([A-Za-z0-9_][A-Za-z0-9_-]{0,31})$")


def _task_id(word: str | None) -> int:
    match = _ID.match(word or "")
    if not match:
        raise UsageError(f"Give a task number, like `#3` (got {word!r})." if word else "Which task? Give its number, like `#3`.")
    return int(match.group(1))


def _named(task: Task) -> str:
    """``#3 Ship v1``, the title quoted inertly (it is a person's words inside our Markdown)."""
    return f"#{task.id} {inert(task.title)}"


def _line(task: Task) -> str:
    who = f" — @{task.assignee}" if task.assignee else ""
    return f"- #{task.id} [{task.state}] {inert(task.title)}{who}"


class TasksAgent(Agent):
    name = "tasks"
    role = "task board"
    description = "Keeps the team task board: add, assign, start, finish and list tasks."
    commands: ClassVar[dict[str, str]] = {
        "task": "`/task add|list|mine|assign|start|done|reopen|delete|clear`: the team task board",
        "tasks": "`/tasks`: list the open tasks",
    }
    usage = tuple(USAGE.splitlines())
    tools: ClassVar[tuple[Tool, ...]] = (
        _change("add_task", "Add a task to the board"),
        _change("assign_task", "Assign a task to someone"),
        _change("start_task", "Move a task to doing"),
        _change("finish_task", "Mark a task done"),
        _change("reopen_task", "Move a task back to todo"),
        _change("delete_task", "Remove a task from the board (after the requester confirms)"),
        _change("clear_done", "Remove every done task (after the requester confirms)"),
    )

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self._board: TaskBoard | None = None
        self._last = BoardSummary(0, 0)

    @property
    def board(self) -> TaskBoard:
        if self._board is None:
            self._board = TaskBoard(self.store)
        return self._board

    # status: the share of tasks done ------------------------------------------------------------
    def _board_status(self, summary: BoardSummary) -> Status:
        if not summary.total:
            return Status(AgentState.IDLE, summary.describe(), 0)
        state = AgentState.COMPLETED if summary.done == summary.total else AgentState.WORKING
        return Status(state, summary.describe(), summary.progress)

    async def ready_status(self) -> Status:
        self._last = await self.board.summary()
        return self._board_status(self._last)

    async def working_status(self, msg: ParsedMessage) -> Status:
        return Status(AgentState.WORKING, f"Updating the board for {msg.sender}", self._last.progress)

    async def done_status(self, msg: ParsedMessage) -> Status:
        self._last = await self.board.summary()
        return self._board_status(self._last)

    async def _publish_progress(self) -> None:
        self._last = await self.board.summary()
        await self.report_status(self._board_status(self._last))

    async def _change(self, tool: str, args: dict[str, Any], action: Callable[[], Awaitable[T]]) -> T:
        """A board change as a tool call of the run: the room sees what changed, and its policy applies."""
        done: list[T] = []

        async def change(**_: Any) -> Any:
            done.append(await action())
            return _view(done[0])

        await self.run.tool_call(tool, args, change)
        return done[0]

    # commands ------------------------------------------------------------------------------------
    async def handle(self, msg: ParsedMessage) -> None:
        if msg.command == "tasks":
            words = ("list " + msg.args).split(maxsplit=1)
        elif msg.command == "task":
            words = msg.args.split(maxsplit=1)
        else:
            words = strip_mention(msg.text, self.name).split(maxsplit=1)
        verb = words[0].lower() if words else "list"
        rest = words[1].strip() if len(words) > 1 else ""
        action = self._actions.get(verb)
        if action is None:
            await self.reply(msg, f"I don't know `{snippet(verb, 30)}`. What I can do:\n{USAGE}", AgentState.IDLE)
            return
        await action(self, msg, rest)

    async def _add(self, msg: ParsedMessage, rest: str) -> None:
        title, assignee = rest, None
        match = _TRAILING_ASSIGNEE.search(" " + rest)
        if match:
            assignee, title = match.group(1), (" " + rest)[: match.start()].strip()
        if not title:
            raise UsageError("A task needs a title: `/task add Ship v1`.")
        if len(title) > MAX_TITLE:
            raise UsageError(f"That title is {len(title)} characters; keep it under {MAX_TITLE}.")
        task = await self._change("add_task", {"title": title, "assignee": assignee},
                                  lambda: self.board.add(title, msg.sender, assignee))
        await self._publish_progress()
        who = f", assigned to @{assignee}" if assignee else ""
        await self.reply(msg, f"Added {_named(task)}{who}. {self._last.describe()}.")

    async def _list(self, msg: ParsedMessage, rest: str) -> None:
        include_done = rest.lower() in ("all", "done")
        tasks = await self.board.list(include_done=include_done)
        await self._show(msg, tasks, "Open tasks" if not include_done else "All tasks")

    async def _mine(self, msg: ParsedMessage, rest: str) -> None:
        tasks = await self.board.list(assignee=msg.sender)
        await self._show(msg, tasks, f"Open tasks of @{msg.sender}")

    async def _show(self, msg: ParsedMessage, tasks: list[Task], heading: str) -> None:
        summary = await self.board.summary()
        head = f"**{heading}** ({summary.describe()}, {summary.progress}%)"
        body = "\n".join(_line(t) for t in tasks[:MAX_LISTED]) if tasks else "Nothing here. Add one with `/task add <title>`."
        if len(tasks) > MAX_LISTED:
            body += f"\n… and {len(tasks) - MAX_LISTED} more."
        await self.reply(msg, f"{head}\n{body}")

    async def _need(self, word: str) -> Task:
        task_id = _task_id(word)
        task = await self.board.get(task_id)
        if task is None:
            raise UsageError(f"There is no task #{task_id}; `/task list` shows the board.")
        return task

    async def _assign(self, msg: ParsedMessage, rest: str) -> None:
        words = [w for w in rest.split() if w.lower() != "to"]
        if len(words) != 2 or not words[1].startswith("@") or not is_valid_username(words[1][1:]):
            raise UsageError("Use `/task assign <id> @name`.")
        task = await self._need(words[0])
        updated = await self._change("assign_task", {"id": task.id, "assignee": words[1][1:]},
                                     lambda: self.board.update(task.id, assignee=words[1][1:]))  # type: ignore[arg-type]
        assert updated is not None
        await self._publish_progress()
        await self.reply(msg, f"{_named(updated)} is now assigned to @{updated.assignee}.")

    async def _start(self, msg: ParsedMessage, rest: str) -> None:
        task = await self._need(rest.split()[0] if rest else "")
        assignee = None if task.assignee else msg.sender
        updated = await self._change("start_task", {"id": task.id, "assignee": assignee or task.assignee},
                                     lambda: self.board.update(task.id, state=TaskState.DOING,  # type: ignore[arg-type]
                                                               assignee=assignee))
        assert updated is not None
        await self._publish_progress()
        await self.reply(msg, f"{_named(updated)} is in progress (@{updated.assignee}).")

    async def _done(self, msg: ParsedMessage, rest: str) -> None:
        task = await self._need(rest.split()[0] if rest else "")
        if task.state == TaskState.DONE:
            await self.reply(msg, f"{_named(task)} is already done.")
            return
        if task.assignee and task.assignee != msg.sender:
            question = f"#{task.id} {task.title} is assigned to @{task.assignee}. Mark it done anyway?"
            if not await self._confirm(msg, question, "Mark done"):
                return
        updated = await self._change("finish_task", {"id": task.id},
                                     lambda: self.board.update(task.id, state=TaskState.DONE))  # type: ignore[arg-type]
        if updated is None:
            raise UsageError(f"#{task.id} was deleted meanwhile.")
        await self._publish_progress()
        await self.reply(msg, f"Done: {_named(updated)}. {self._last.describe()}.")

    async def _reopen(self, msg: ParsedMessage, rest: str) -> None:
        task = await self._need(rest.split()[0] if rest else "")
        await self._change("reopen_task", {"id": task.id},
                           lambda: self.board.update(task.id, state=TaskState.TODO))  # type: ignore[arg-type]
        await self._publish_progress()
        await self.reply(msg, f"Reopened {_named(task)}. {self._last.describe()}.")

    async def _delete(self, msg: ParsedMessage, rest: str) -> None:
        task = await self._need(rest.split()[0] if rest else "")
        if not await self._confirm(msg, f"Delete task #{task.id} {task.title}?", "Delete"):
            return
        if await self._change("delete_task", {"id": task.id},
                              lambda: self.board.delete(task.id)) is None:  # type: ignore[arg-type]
            raise UsageError(f"#{task.id} was already deleted.")
        await self._publish_progress()
        await self.reply(msg, f"Deleted {_named(task)}. {self._last.describe()}.")

    async def _clear(self, msg: ParsedMessage, rest: str) -> None:
        summary = await self.board.summary()
        if not summary.done:
            await self.reply(msg, "There are no done tasks to clear.")
            return
        if not await self._confirm(msg, f"Remove {'the done task' if summary.done == 1 else f'the {summary.done} done tasks'} from the board?", "Remove"):
            return
        removed = await self._change("clear_done", {}, lambda: self.board.clear_done())
        await self._publish_progress()
        await self.reply(msg, f"Removed {plural(removed, 'done task')}. {self._last.describe()}.")

    async def _confirm(self, msg: ParsedMessage, question: str, yes: str) -> bool:
        """Ask the requester; True only for ``yes`` (a timeout is reported in the chat by the hub)."""
        await self.report(AgentState.WORKING, f"Waiting for {msg.sender} to confirm", self._last.progress)
        answer = await self.ask(msg.sender, question, [yes, "Cancel"], CONFIRM_TIMEOUT, msg.message_id, msg.room_id)
        if answer == yes:
            return True
        if answer is not None:
            await self.reply(msg, "OK, nothing changed.", AgentState.IDLE)
        return False

    _actions: ClassVar[dict[str, Any]] = {
        "add": _add, "new": _add,
        "list": _list, "ls": _list, "show": _list,
        "mine": _mine,
        "assign": _assign,
        "start": _start,
        "done": _done, "finish": _done, "close": _done,
        "reopen": _reopen,
        "delete": _delete, "remove": _delete, "rm": _delete,
        "clear": _clear,
    }
