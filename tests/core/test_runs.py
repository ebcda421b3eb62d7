"""A run's life without I/O: seq without gaps, who may emit, AG-UI pairs, terminal events, late joiners."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from agentchat_client.protocol import AGUI_EVENT, ErrorCode, ProtocolError

from server.core.runs import MAX_OPEN_RUNS_PER_AGENT, MAX_RUN_EVENTS, RunBook, RunState, run_outcome


def started(run_id: str = "r1") -> dict[str, Any]:
    return {"type": "RUN_STARTED", "threadId": "t", "runId": run_id}


def finished(run_id: str = "r1", **extra: Any) -> dict[str, Any]:
    return {"type": "RUN_FINISHED", "threadId": "t", "runId": run_id, **extra}


def book_with_run(run_id: str = "r1", agent: str = "files") -> RunBook:
    book = RunBook()
    book.start(run_id, agent, started(run_id), reply_to=7)
    return book


def emit(book: RunBook, *events: dict[str, Any], run_id: str = "r1", sender: str = "files") -> list[int]:
    return [book.accept(run_id, sender, e)[1] for e in events]


def refused(book: RunBook, event: dict[str, Any], code: ErrorCode, run_id: str = "r1", sender: str = "files") -> str:
    with pytest.raises(ProtocolError) as caught:
        book.accept(run_id, sender, event)
    assert caught.value.code is code, caught.value.message
    return caught.value.message


def test_events_are_numbered_from_one_without_gaps_even_after_a_refusal() -> None:
    book = book_with_run()
    assert emit(book, {"type": "STEP_STARTED", "stepName": "read"}) == [2]
    refused(book, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "x"}, ErrorCode.INVALID_MESSAGE)
    assert emit(book, {"type": "STEP_FINISHED", "stepName": "read"}, finished()) == [3, 4]


def test_only_the_runs_agent_may_emit() -> None:
    book = book_with_run(agent="files")
    message = refused(book, {"type": "STEP_STARTED", "stepName": "x"}, ErrorCode.FORBIDDEN, sender="tasks")
    assert "files" in message
    assert book.get("r1").last_seq == 1


def test_a_run_starts_with_run_started_and_its_id() -> None:
    book = RunBook()
    with pytest.raises(ProtocolError) as caught:
        book.start("r1", "files", {"type": "STEP_STARTED", "stepName": "x"})
    assert caught.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(ProtocolError) as caught:
        book.start("r1", "files", started("other"))
    assert caught.value.code is ErrorCode.INVALID_MESSAGE
    refused(book, {"type": "STEP_STARTED", "stepName": "x"}, ErrorCode.NOT_FOUND)
    book.start("r1", "files", started())
    with pytest.raises(ProtocolError) as caught:
        book.start("r1", "tasks", started())
    assert caught.value.code is ErrorCode.CONFLICT
    refused(book, started(), ErrorCode.CONFLICT)


def test_the_terminal_event_closes_the_run() -> None:
    book = book_with_run()
    emit(book, {"type": "RUN_ERROR", "message": "boom"})
    assert book.get("r1").finished and book.get("r1").outcome == "error"
    assert "finished" in refused(book, {"type": "STEP_STARTED", "stepName": "x"}, ErrorCode.CONFLICT)


def test_pairs_are_checked_as_ag_ui_clients_check_them() -> None:
    book = book_with_run()
    refused(book, {"type": "TEXT_MESSAGE_END", "messageId": "m1"}, ErrorCode.INVALID_MESSAGE)
    emit(book, {"type": "TEXT_MESSAGE_START", "messageId": "m1", "role": "assistant"},
         {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m1", "delta": "Hi"})
    refused(book, {"type": "TEXT_MESSAGE_START", "messageId": "m1"}, ErrorCode.INVALID_MESSAGE)
    assert "close text message m1" in refused(book, finished(), ErrorCode.INVALID_MESSAGE)
    emit(book, {"type": "TEXT_MESSAGE_END", "messageId": "m1"})

    emit(book, {"type": "TOOL_CALL_START", "toolCallId": "t1", "toolCallName": "read_csv"},
         {"type": "TOOL_CALL_ARGS", "toolCallId": "t1", "delta": '{"file":'})
    assert "TOOL_CALL_END" in refused(
        book, {"type": "TOOL_CALL_RESULT", "messageId": "x", "toolCallId": "t1", "content": "1"}, ErrorCode.INVALID_MESSAGE)
    emit(book, {"type": "TOOL_CALL_ARGS", "toolCallId": "t1", "delta": '"a.csv"}'},
         {"type": "TOOL_CALL_END", "toolCallId": "t1"})
    refused(book, {"type": "TOOL_CALL_ARGS", "toolCallId": "t1", "delta": "x"}, ErrorCode.INVALID_MESSAGE)
    emit(book, {"type": "TOOL_CALL_RESULT", "messageId": "x", "toolCallId": "t1", "content": "3 rows"})
    refused(book, {"type": "TOOL_CALL_RESULT", "messageId": "y", "toolCallId": "t1", "content": "again"},
            ErrorCode.INVALID_MESSAGE)

    refused(book, {"type": "STEP_FINISHED", "stepName": "plan"}, ErrorCode.INVALID_MESSAGE)
    emit(book, {"type": "REASONING_START", "messageId": "r"},
         {"type": "REASONING_MESSAGE_START", "messageId": "rm", "role": "reasoning"},
         {"type": "REASONING_MESSAGE_CONTENT", "messageId": "rm", "delta": "hmm"})
    assert "reasoning" in refused(book, finished(), ErrorCode.INVALID_MESSAGE)
    emit(book, {"type": "REASONING_MESSAGE_END", "messageId": "rm"}, {"type": "REASONING_END", "messageId": "r"},
         {"type": "STEP_STARTED", "stepName": "plan"}, {"type": "STEP_FINISHED", "stepName": "plan"}, finished())
    assert book.get("r1").outcome == "success"


def test_chunk_events_are_refused_with_what_to_send_instead() -> None:
    book = book_with_run()
    message = refused(book, {"type": "TEXT_MESSAGE_CHUNK", "delta": "x"}, ErrorCode.INVALID_MESSAGE)
    assert "TEXT_MESSAGE_START" in message


def test_run_error_ends_a_run_in_any_state() -> None:
    book = book_with_run()
    emit(book, {"type": "TOOL_CALL_START", "toolCallId": "t1", "toolCallName": "x"},
         {"type": "RUN_ERROR", "message": "stopped", "code": "CANCELLED"})
    assert book.get("r1").finished


def test_closing_events_close_everything_for_a_cancelled_outcome() -> None:
    book = book_with_run()
    emit(book, {"type": "STEP_STARTED", "stepName": "outer"}, {"type": "STEP_STARTED", "stepName": "inner"},
         {"type": "TEXT_MESSAGE_START", "messageId": "m"}, {"type": "TOOL_CALL_START", "toolCallId": "t",
                                                            "toolCallName": "x"})
    state = book.get("r1")
    closing = state.closing_events()
    assert [e["type"] for e in closing] == ["TEXT_MESSAGE_END", "TOOL_CALL_END", "STEP_FINISHED", "STEP_FINISHED"]
    assert [e.get("stepName") for e in closing[2:]] == ["inner", "outer"]
    emit(book, *closing, finished(outcome={"type": "cancelled"}))
    assert state.outcome == "cancelled"
    for event in closing:
        AGUI_EVENT.validate_python(event)


def test_a_run_holds_a_bounded_number_of_events_but_can_always_end() -> None:
    book = book_with_run()
    state = book.get("r1")
    state.last_seq = MAX_RUN_EVENTS
    refused(book, {"type": "STEP_STARTED", "stepName": "x"}, ErrorCode.CONFLICT)
    emit(book, finished())


def test_stamp_sets_the_servers_time_and_the_runs_ids() -> None:
    state = RunState("r1", "files", room_id="general")
    stamped = state.stamp({"type": "RUN_STARTED", "threadId": "mine", "runId": "r1", "timestamp": 1}, 1234)
    assert stamped == {"type": "RUN_STARTED", "threadId": "general", "runId": "r1", "timestamp": 1234}
    AGUI_EVENT.validate_python(stamped)


def frame(run_id: str, seq: int, event: dict[str, Any], agent: str = "files") -> tuple[dict[str, Any], bytes]:
    data = {"runId": run_id, "agent": agent, "seq": seq, "replyTo": 7, "event": event}
    return data, orjson.dumps({"type": "agent_event", "data": data})


def test_late_joiners_get_the_runs_in_progress_from_their_start() -> None:
    book = book_with_run()
    emit(book, {"type": "STEP_STARTED", "stepName": "read"})
    for seq, event in enumerate([started(), {"type": "STEP_STARTED", "stepName": "read"}], start=1):
        assert book.delivered(*frame("r1", seq, event))
    assert not book.delivered(*frame("r1", 2, {"type": "STEP_STARTED", "stepName": "read"}))  # a repeat
    assert [(room, orjson.loads(f)["data"]["seq"]) for room, f in book.frames_in_progress()] == [("general", 1),
                                                                                                  ("general", 2)]
    assert len(book.snapshot("r1")) == 2
    emit(book, {"type": "STEP_FINISHED", "stepName": "read"}, finished())
    book.delivered(*frame("r1", 3, {"type": "STEP_FINISHED", "stepName": "read"}))
    book.delivered(*frame("r1", 4, finished()))
    assert book.frames_in_progress() == [] and book.snapshot("r1") is None
    assert book.finished_recently("r1")
    refused(book, {"type": "STEP_STARTED", "stepName": "x"}, ErrorCode.CONFLICT)


def test_a_run_accepted_on_another_process_is_replayed_so_this_one_could_continue_it() -> None:
    book = RunBook()
    book.delivered(*frame("r2", 1, started("r2")))
    book.delivered(*frame("r2", 2, {"type": "TEXT_MESSAGE_START", "messageId": "m"}))
    assert book.get("r2").last_seq == 2 and "m" in book.get("r2").texts
    assert emit(book, {"type": "TEXT_MESSAGE_END", "messageId": "m"}, run_id="r2") == [3]


def test_queued_requests_are_shown_until_their_run_starts() -> None:
    book = RunBook()
    book.queued("r9", "ops-room", b"queued-frame")
    assert book.frames_in_progress() == [("ops-room", b"queued-frame")]
    data, encoded = frame("r9", 1, started("r9"))
    book.delivered({**data, "roomId": "ops-room", "threadId": 4}, encoded)
    assert book.frames_in_progress() == [("ops-room", encoded)]
    assert book.get("r9").thread_id == 4


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        (finished(), "success"),
        (finished(outcome={"type": "cancelled"}), "cancelled"),
        ({"type": "RUN_ERROR", "message": "x"}, "error"),
    ],
)
def test_run_outcome(event: dict[str, Any], outcome: str) -> None:
    assert run_outcome(event) == outcome


def test_an_agent_has_a_bounded_number_of_runs_in_progress() -> None:
    book = RunBook()
    for n in range(MAX_OPEN_RUNS_PER_AGENT):
        book.start(f"r{n}", "files", started(f"r{n}"))
    with pytest.raises(ProtocolError) as caught:
        book.start("one-more", "files", started("one-more"))
    assert caught.value.code is ErrorCode.CONFLICT and "finish one first" in caught.value.message
    book.start("other", "tasks", started("other"))  # another agent is not affected
