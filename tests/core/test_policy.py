"""The rules that need the sender's role or the server's configuration."""

from __future__ import annotations

import pytest

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError, Role
from server.core.policy import AGENT_ONLY, Limits, check_message_text, check_text, require_agent, require_own_status, require_poster


def code_of(call, *args) -> ErrorCode:  # noqa: ANN001
    with pytest.raises(ProtocolError) as info:
        call(*args)
    return info.value.code


def test_message_text_bounds() -> None:
    limits = Limits(max_message_chars=10)
    check_message_text("0123456789", False, limits)
    assert code_of(check_message_text, "01234567890", False, limits) is ErrorCode.MESSAGE_TOO_LONG
    assert code_of(check_message_text, "   ", False, limits) is ErrorCode.INVALID_MESSAGE
    check_message_text("", True, limits)  # a file alone is a message
    assert code_of(check_message_text, "a\x00b", False, limits) is ErrorCode.INVALID_MESSAGE


def test_nul_is_refused_in_any_text() -> None:
    check_text("currentTask", "fine")
    with pytest.raises(ProtocolError) as info:
        check_text("currentTask", "bad\x00")
    assert info.value.code is ErrorCode.INVALID_MESSAGE and "currentTask" in info.value.message


def test_viewers_read_but_do_not_post_or_stop_agents() -> None:
    for role in (Role.ADMIN, Role.DEVELOPER, Role.AGENT):
        require_poster(role)
    assert code_of(require_poster, Role.VIEWER) is ErrorCode.FORBIDDEN
    with pytest.raises(ProtocolError, match="may not stop agents"):
        require_poster(Role.VIEWER, "stop agents")


@pytest.mark.parametrize("kind", sorted(AGENT_ONLY))
def test_agent_frames_need_the_agent_role(kind: MessageType) -> None:
    require_agent(Role.AGENT, kind)
    for role in (Role.ADMIN, Role.DEVELOPER, Role.VIEWER):
        assert code_of(require_agent, role, kind) is ErrorCode.FORBIDDEN


def test_an_agent_reports_only_its_own_status() -> None:
    require_own_status("echo", None)
    require_own_status("echo", "echo")
    assert code_of(require_own_status, "echo", "tasks") is ErrorCode.FORBIDDEN
