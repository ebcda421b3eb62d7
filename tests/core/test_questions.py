"""Questions: owned by the server, answered once, by the person asked, with one of the choices."""

from __future__ import annotations

import pytest

from agentchat_client.protocol import ErrorCode, ProtocolError
from server.core.questions import Question, QuestionBook


def question(qid: str = "q-1", agent: str = "tasks", to: str = "alice") -> Question:
    return Question(qid, agent, to, "Delete #3?", ("Delete", "Cancel"), 12, b"{}", ref="mine-1")


def test_only_the_person_asked_may_answer_with_a_choice() -> None:
    book = QuestionBook()
    book.opened(question())
    assert book.check_answer("q-1", "alice", "Delete").to == "alice"
    with pytest.raises(ProtocolError) as info:
        book.check_answer("q-1", "mallory", "Delete")
    assert info.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(ProtocolError) as info:
        book.check_answer("q-1", "alice", "Maybe")
    assert info.value.code is ErrorCode.INVALID_MESSAGE


def test_a_closed_question_cannot_be_answered() -> None:
    book = QuestionBook()
    book.opened(question())
    assert book.closed("q-1") is not None
    assert book.closed("q-1") is None
    with pytest.raises(ProtocolError) as info:
        book.check_answer("q-1", "alice", "Delete")
    assert info.value.code is ErrorCode.NOT_FOUND and "closed" in info.value.message


def test_questions_by_person_and_by_agent() -> None:
    book = QuestionBook(make_id=iter(["q-a", "q-b"]).__next__)
    assert book.make_id() == "q-a"
    book.opened(question("q-1", "tasks", "alice"))
    book.opened(question("q-2", "files", "alice"))
    book.opened(question("q-3", "tasks", "bob"))
    assert {q.question_id for q in book.for_user("alice")} == {"q-1", "q-2"}
    assert {q.question_id for q in book.of_agent("tasks")} == {"q-1", "q-3"}
    assert len(book) == 3 and "q-2" in book


def test_question_from_an_event_keeps_the_agents_ref() -> None:
    data = {"questionId": "q-9", "agent": "tasks", "to": "bob", "text": "?", "choices": ["a", "b"],
            "replyTo": None, "ref": "local-1"}
    q = Question.from_event(data, b"frame")
    assert (q.question_id, q.ref, q.choices, q.frame) == ("q-9", "local-1", ("a", "b"), b"frame")
