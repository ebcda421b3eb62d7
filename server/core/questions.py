"""Questions agents ask people: minted, owned and closed by the server.

A question's id is minted here, bound to the agent that asked and the person asked; only that
person may answer it, once, with one of its choices.  It closes when answered, when it times
out, or when its agent is stopped.  The book is a pure record, kept on every process from the
``agent_question`` / ``question_closed`` events, so any process can check an answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentchat_client.protocol import ErrorCode, ProtocolError

__all__ = ["Question", "QuestionBook", "new_question_id"]


def new_question_id() -> str:
    return "q-" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Question:
    question_id: str
    agent: str
    to: str
    text: str
    choices: tuple[str, ...]
    reply_to: int | None
    frame: bytes
    ref: str | None = None
    """The agent's own name for the question, echoed back when it closes."""
    room_id: str = "general"
    """The ``agent_question`` frame, re-sent to the person asked when they (re)connect."""

    @classmethod
    def from_event(cls, data: dict[str, Any], frame: bytes) -> Question:
        return cls(
            data["questionId"], data["agent"], data["to"], data["text"], tuple(data["choices"]),
            data.get("replyTo"), frame, data.get("ref"), data.get("roomId", "general"),
        )


class QuestionBook:
    def __init__(self, make_id: Callable[[], str] = new_question_id) -> None:
        self.make_id = make_id
        self._open: dict[str, Question] = {}

    def __contains__(self, question_id: object) -> bool:
        return question_id in self._open

    def __len__(self) -> int:
        return len(self._open)

    def get(self, question_id: str) -> Question | None:
        return self._open.get(question_id)

    def opened(self, question: Question) -> None:
        self._open[question.question_id] = question

    def closed(self, question_id: str) -> Question | None:
        return self._open.pop(question_id, None)

    def for_user(self, user_id: str) -> list[Question]:
        return [q for q in self._open.values() if q.to == user_id]

    def of_agent(self, agent: str) -> list[Question]:
        return [q for q in self._open.values() if q.agent == agent]

    def check_answer(self, question_id: str, user_id: str, answer: str) -> Question:
        """The question ``user_id`` may answer with ``answer``, or the error they get."""
        question = self._open.get(question_id)
        if question is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, "That question is closed (answered, timed out or cancelled)")
        if question.to != user_id:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"This question is for {question.to}")
        if answer not in question.choices:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"answer: choose one of {', '.join(question.choices)}")
        return question
