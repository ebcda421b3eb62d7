"""Who is on a connection: decided by the server from the stored account, never by the client."""

from __future__ import annotations

from dataclasses import dataclass, replace

from agentchat_client.protocol import Role

__all__ = ["Identity"]


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    role: Role
    session_id: str | None = None
    """The sign-in session behind an access token (revoking it ends the connection); None for
    development tokens and agent keys."""
    key_id: str | None = None
    """The agent key used, for agents that authenticate with one (revoking it ends the connection)."""

    @property
    def is_agent(self) -> bool:
        return self.role is Role.AGENT

    def with_role(self, role: Role) -> Identity:
        return replace(self, role=role)
