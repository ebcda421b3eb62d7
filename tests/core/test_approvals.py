"""Approvals without I/O: addressing, distinct deciders, quorum, veto, expiry, cancel, the book."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from agentchat_client.protocol import ErrorCode, ProtocolError, Role

from server.core.approvals import Approval, ApprovalBook, Audience, cancel, decide, expire

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def request(to: dict, minutes: float = 10) -> Approval:
    return Approval("ap-1", "r1", "t1", "ops", "deploy", Audience.from_wire(to), T0,
                    T0 + timedelta(minutes=minutes), args={"env": "prod"})


def refused(approval: Approval, user: str, role: Role, code: ErrorCode, decision: str = "approve",
            now: datetime = T0) -> str:
    with pytest.raises(ProtocolError) as caught:
        decide(approval, user, role, decision, now)
    assert caught.value.code is code, caught.value.message
    return caught.value.message


def test_one_named_person_decides() -> None:
    approval = request({"user": "alice"})
    assert "alice" in refused(approval, "bob", Role.DEVELOPER, ErrorCode.FORBIDDEN)
    done = decide(approval, "alice", Role.DEVELOPER, "approve", T0)
    assert done.status == "approved" and done.resolved_by == ("alice",) and done.version == 1


def test_viewers_and_agents_never_decide_even_when_named() -> None:
    assert "Viewers" in refused(request({"user": "vic"}), "vic", Role.VIEWER, ErrorCode.FORBIDDEN)
    refused(request({"users": ["ops", "alice"]}), "ops", Role.AGENT, ErrorCode.FORBIDDEN)
    refused(request({"role": "developer"}), "vic", Role.VIEWER, ErrorCode.FORBIDDEN)


def test_a_role_includes_the_roles_above_it() -> None:
    developers = request({"role": "developer"})
    assert decide(developers, "ada", Role.ADMIN, "approve", T0).status == "approved"
    admins = request({"role": "admin"})
    assert "admins" in refused(admins, "bob", Role.DEVELOPER, ErrorCode.FORBIDDEN)


def test_a_quorum_of_two_needs_two_different_people() -> None:
    approval = request({"users": ["alice", "bob", "carol"], "quorum": 2})
    refused(approval, "dave", Role.DEVELOPER, ErrorCode.FORBIDDEN)
    once = decide(approval, "alice", Role.DEVELOPER, "approve", T0)
    assert once.pending and once.approved_by == ["alice"]
    assert "already approved" in refused(once, "alice", Role.DEVELOPER, ErrorCode.CONFLICT)
    twice = decide(once, "carol", Role.DEVELOPER, "approve", T0)
    assert twice.status == "approved" and twice.resolved_by == ("alice", "carol")
    assert "already closed" in refused(twice, "bob", Role.DEVELOPER, ErrorCode.CONFLICT)


def test_a_quorum_on_a_role_counts_people_too() -> None:
    approval = request({"role": "developer", "quorum": 2})
    once = decide(approval, "alice", Role.DEVELOPER, "approve", T0)
    assert once.pending
    assert decide(once, "ada", Role.ADMIN, "approve", T0).status == "approved"


def test_one_deny_denies() -> None:
    approval = request({"users": ["alice", "bob", "carol"], "quorum": 2})
    once = decide(approval, "alice", Role.DEVELOPER, "approve", T0)
    denied = decide(once, "bob", Role.DEVELOPER, "deny", T0)
    assert denied.status == "denied" and denied.resolved_by == ("bob",)


def test_expiry() -> None:
    approval = request({"user": "alice"}, minutes=1)
    assert expire(approval, T0 + timedelta(seconds=59)) is None
    late = T0 + timedelta(minutes=1)
    assert "expired" in refused(approval, "alice", Role.DEVELOPER, ErrorCode.CONFLICT, now=late)
    expired = expire(approval, late)
    assert expired is not None and expired.status == "expired" and expired.resolved_by == ()
    assert expire(expired, late) is None
    refused(expired, "alice", Role.DEVELOPER, ErrorCode.CONFLICT, now=late)


def test_cancel_closes_only_a_pending_approval() -> None:
    approval = request({"user": "alice"})
    cancelled = cancel(approval, "bob", T0)
    assert cancelled is not None and cancelled.status == "cancelled" and cancelled.resolved_by == ("bob",)
    assert cancel(cancelled, "bob", T0) is None


@pytest.mark.parametrize(
    ("to", "text"),
    [({"user": "alice"}, "alice"), ({"role": "developer"}, "developers"),
     ({"users": ["a", "b", "c"], "quorum": 2}, "a, b or c")],
)
def test_audience_round_trip_and_description(to: dict, text: str) -> None:
    audience = Audience.from_wire(to)
    assert Audience.from_wire(audience.to_wire()) == audience
    assert audience.describe() == text


def test_the_book_keeps_the_newest_version_and_finds_by_tool_call() -> None:
    book = ApprovalBook()
    approval = request({"users": ["alice", "bob"], "quorum": 2})
    newer = decide(approval, "alice", Role.DEVELOPER, "approve", T0)
    book.opened(newer, b"v1")
    book.opened(approval, b"v0")  # a late, older copy does not win
    assert book.frames() == [("general", b"v1")]
    assert book.for_tool_call("r1", "t1") == newer and book.of_agent("ops") == [newer]
    assert book.closed("ap-1") == newer and len(book) == 0
