"""The app's view of runs and approvals, without Reflex or sockets: frames in, views out."""

from __future__ import annotations

from typing import Any

from agentchat_app.chat.runs import RunBoard, build_view, duration_label, pretty
from agentchat_app.chat.session import ChatSession


def frame(seq: int, event: dict[str, Any], run_id: str = "run-1", **extra: Any) -> dict[str, Any]:
    return {"runId": run_id, "agent": "files", "seq": seq, "roomId": "general", "threadId": None, "replyTo": 7,
            "event": event, **extra}


RUN = [
    {"type": "RUN_STARTED", "threadId": "general", "runId": "run-1", "timestamp": 1000},
    {"type": "REASONING_START", "messageId": "r1", "timestamp": 1000},
    {"type": "REASONING_MESSAGE_START", "messageId": "r1m", "role": "reasoning", "timestamp": 1000},
    {"type": "REASONING_MESSAGE_CONTENT", "messageId": "r1m", "delta": "Check the file first.", "timestamp": 1100},
    {"type": "REASONING_MESSAGE_END", "messageId": "r1m", "timestamp": 4000},
    {"type": "REASONING_END", "messageId": "r1", "timestamp": 4000},
    {"type": "STEP_STARTED", "stepName": "Read sales.csv", "timestamp": 4000},
    {"type": "TOOL_CALL_START", "toolCallId": "c1", "toolCallName": "read_file", "timestamp": 4100},
    {"type": "TOOL_CALL_ARGS", "toolCallId": "c1", "delta": '{"file": ', "timestamp": 4100},
    {"type": "TOOL_CALL_ARGS", "toolCallId": "c1", "delta": '"sales.csv"}', "timestamp": 4100},
    {"type": "TOOL_CALL_END", "toolCallId": "c1", "timestamp": 4100},
    {"type": "TOOL_CALL_RESULT", "messageId": "x", "toolCallId": "c1", "content": '{"rows": 3}', "timestamp": 4600},
    {"type": "TOOL_CALL_START", "toolCallId": "c2", "toolCallName": "analyse_file", "timestamp": 4600},
    {"type": "TOOL_CALL_END", "toolCallId": "c2", "timestamp": 4600},
    {"type": "TOOL_CALL_RESULT", "messageId": "y", "toolCallId": "c2", "content": "\n".join(f"line {i}" for i in range(40)),
     "timestamp": 5000},
    {"type": "STEP_FINISHED", "stepName": "Read sales.csv", "timestamp": 5100},
    {"type": "TEXT_MESSAGE_START", "messageId": "m", "timestamp": 5100},
    {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "3 rows", "timestamp": 5100},
    {"type": "TEXT_MESSAGE_END", "messageId": "m", "timestamp": 5100},
    {"type": "RUN_FINISHED", "threadId": "general", "runId": "run-1", "timestamp": 5200},
]


def test_a_finished_run_folds_into_one_line_and_opens_to_its_steps() -> None:
    view = build_view("run-1", frame(1, RUN[0]), RUN, {})
    assert view.status == "done" and view.summary == "1 step · 2 tool calls · 4.2 s"
    kinds = [(i.kind, i.title, i.depth) for i in view.lines]
    assert kinds == [("reasoning", "Thought for 3.0 s", 0), ("step", "Read sales.csv", 0),
                     ("tool", "read_file", 1), ("tool", "analyse_file", 1)]
    reasoning, step, read, analyse = view.lines
    assert reasoning.text == "Check the file first."
    assert step.status == "done" and step.duration == "1.1 s"
    assert read.args == '{\n  "file": "sales.csv"\n}' and read.result == '{\n  "rows": 3\n}'
    assert read.duration == "0.5 s" and not read.result_folded
    assert analyse.result_folded and analyse.result_preview.count("\n") == 6 and "line 39" in analyse.result


def test_a_running_run_says_so_and_a_waiting_tool_call_names_its_approval() -> None:
    events = RUN[:11]
    view = build_view("run-1", frame(1, RUN[0]), events, {"c1": "ap-1"})
    assert view.status == "running" and view.summary.endswith("working…")
    call = next(i for i in view.lines if i.kind == "tool")
    assert call.status == "waiting" and call.status_label == "waiting for approval" and call.approval_id == "ap-1"


def test_a_cancelled_run_and_a_skipped_tool() -> None:
    events = [*RUN[:11],
              {"type": "TOOL_CALL_RESULT", "messageId": "x", "toolCallId": "c1", "content": "I did not run read_file: "
               "bob denied it.", "timestamp": 4200},
              {"type": "STEP_FINISHED", "stepName": "Read sales.csv", "timestamp": 4200},
              {"type": "RUN_FINISHED", "threadId": "general", "runId": "run-1", "outcome": {"type": "cancelled"},
               "timestamp": 4300}]
    view = build_view("run-1", frame(1, RUN[0]), events, {})
    assert view.status == "cancelled" and view.summary.endswith("stopped")
    assert next(i for i in view.lines if i.kind == "tool").status_label == "not run"


def test_the_board_keeps_order_ignores_repeats_and_notes_gaps() -> None:
    board = RunBoard("alice", lambda: "developer")
    assert board.on_event(frame(1, RUN[0]))
    assert not board.on_event(frame(1, RUN[0])), "a repeat changes nothing"
    assert not board.on_event(frame(3, RUN[2]))
    assert board.missing == {"run-1": 1}
    for seq, event in enumerate(RUN[1:], start=2):
        board.on_event(frame(seq, event))
    assert board.missing == {} and board.view("run-1").summary == "1 step · 2 tool calls · 4.2 s"
    assert board.live() == [], "finished"
    assert not board.on_event(frame(len(RUN) + 1, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "x"}))


def test_live_runs_until_their_answer_arrives_and_queued_requests() -> None:
    board = RunBoard("alice", lambda: "developer")
    board.on_queued({"runId": "run-2", "agent": "files", "replyTo": 9, "position": 2})
    assert [v.summary for v in board.live()] == ["queued (2nd in line)"]
    board.on_event(frame(1, {"type": "RUN_STARTED", "threadId": "general", "runId": "run-2"}, run_id="run-2"))
    assert [v.status for v in board.live()] == ["running"]
    assert board.on_answer({"runId": "run-2"})
    assert board.live() == [] and board.view("run-2").answered


def approval(**extra: Any) -> dict[str, Any]:
    return {"approvalId": "ap-1", "runId": "run-1", "roomId": "general", "toolCallId": "c1", "tool": "deploy",
            "args": {"env": "prod"}, "reason": "ship it", "to": {"role": "developer", "quorum": 2},
            "requestedBy": "files", "expiresAt": "2026-01-01T00:10:00.000Z", "status": "pending", "approvedBy": [],
            "decisions": [], **extra}


def test_an_approval_card_knows_who_may_decide_and_who_is_awaited() -> None:
    for me, role, can in [("alice", "developer", True), ("ada", "admin", True), ("vic", "viewer", False)]:
        board = RunBoard(me, lambda role=role: role)
        board.on_approval(approval())
        (card,) = board.approvals()
        assert card.can_decide is can
        assert card.waiting_text == "Waiting for approval from developers (0 of 2)"
        assert card.args == '{\n  "env": "prod"\n}'
    board = RunBoard("alice", lambda: "developer")
    board.on_approval(approval(approvedBy=["alice"], decisions=[{"by": "alice", "decision": "approve", "at": None}]))
    (card,) = board.approvals()
    assert not card.can_decide and card.waiting_text == "You approved; waiting for developers (1 of 2)"
    alice = RunBoard("alice", lambda: "developer")
    alice.on_approval(approval(to={"user": "alice"}))
    assert alice.approvals()[0].can_decide and alice.approvals()[0].waiting_text == "Waiting for your decision"
    bob = RunBoard("bob", lambda: "developer")
    bob.on_approval(approval(to={"user": "alice"}))
    assert not bob.approvals()[0].can_decide and bob.approvals()[0].waiting_text == "Waiting for approval from alice"
    assert bob.on_resolved({"approvalId": "ap-1", "outcome": "approved", "by": ["alice"]})
    assert bob.approvals()[0].outcome_text == "Approved by alice" and bob.approvals()[0].status == "approved"
    assert not bob.on_approval(approval(to={"user": "alice"})), "a late copy does not reopen it"


def test_the_session_applies_run_frames() -> None:
    session = ChatSession("alice", "developer")
    changes = session.apply({"type": "agent_event", "data": frame(1, RUN[0])})
    assert changes.fields == {"runs"}
    changes = session.apply({"type": "approval_request", "data": approval()})
    assert changes.fields == {"runs", "approvals"}
    changes = session.apply({"type": "agent_response", "data": {
        "id": 12, "text": "done", "sender": "files", "timestamp": None, "mentions": [], "replyTo": 7,
        "attachments": [], "agentStatus": "completed", "streamId": "run-1", "runId": "run-1", "clientId": None}})
    assert "runs" in changes.fields and session.window.messages[-1].run_id == "run-1"
    assert session.runs.view("run-1").answered


def test_labels() -> None:
    assert duration_label(0, 4200) == "4.2 s" and duration_label(0, 42_000) == "42 s"
    assert duration_label(0, 150_000) == "2.5 min" and duration_label(None, 5) == ""
    assert pretty('{"a": [1]}') == '{\n  "a": [\n    1\n  ]\n}' and pretty("plain") == "plain"


def test_a_late_delta_does_not_reopen_an_answered_stream() -> None:
    session = ChatSession("alice", "developer")
    answer = {"id": 12, "text": "done", "sender": "files", "timestamp": None, "mentions": [], "replyTo": None,
              "attachments": [], "agentStatus": "completed", "streamId": "run-1", "runId": "run-1", "clientId": None}
    session.apply({"type": "agent_response", "data": answer})
    changes = session.apply({"type": "agent_stream", "data": {"streamId": "run-1", "sender": "files", "delta": "x",
                                                               "replyTo": None, "timestamp": None}})
    assert changes.fields == set() and session.window.streams == []
