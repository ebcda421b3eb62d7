"""``AccountChanges``: where the hub meets the accounts service after authentication.

An admin changes a role, disables an account, or a session or agent key is revoked: the
accounts service reports it; this carries the change to every process through the fan-out (an
``account_updated`` event for the user's own connections) and, on every process, applies it to
the user's open connections before the frame goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentchat_client.protocol import AccountUpdated, MessageType, Role, server_frame

from ..accounts.events import CLOSE_ACCOUNT_DISABLED, CLOSE_SESSION_ENDED, AccountChange
from ..core.connection import CloseDecision
from ..core.events import Event
from ..core.roster import Roster
from .connections import Conn, Connections

if TYPE_CHECKING:
    from ..accounts import AccountService

__all__ = ["AccountChanges"]

log = logging.getLogger(__name__)


class AccountChanges:
    def __init__(
        self, accounts: AccountService | None, connections: Connections, roster: Roster,
        publish: Callable[[Event], None], spawn: Callable[..., Any],
    ) -> None:
        self.accounts = accounts
        self.connections = connections
        self.roster = roster
        self.publish = publish
        self.spawn = spawn

    def reported(self, change: AccountChange) -> None:
        """Accounts service callback: carry the change to every process through the fan-out."""
        data: AccountUpdated = change.frame_data()  # type: ignore[assignment]
        self.publish(Event(MessageType.ACCOUNT_UPDATED, server_frame(MessageType.ACCOUNT_UPDATED, data),
                           target_user=change.user_id, _data=dict(data)))

    def apply(self, data: dict[str, Any]) -> None:
        """On every process, before the frame goes out: apply a change to the user's connections.

        The role changes at once (the next frame is judged by it); a disabled account's sockets
        close with 4003; every other connection of the user is re-checked against the accounts
        service, so a revoked session or agent key closes with 4001.
        """
        user_id, disabled = data["userId"], bool(data.get("disabled"))
        if self.accounts is not None:
            self.accounts.forget(user_id)  # the change may come from another process
        member = self.roster.get(user_id)
        if member is not None:
            member.role = data["role"]
        for conn in self.connections.of_user(user_id):
            identity = conn.identity
            if identity is None:
                continue
            if disabled:
                self.connections.drop(conn, CloseDecision(CLOSE_ACCOUNT_DISABLED, "account disabled"))
                continue
            if identity.role is not Role.AGENT and data.get("role") in Role.__members__.values():
                conn.core.identity = identity.with_role(Role(data["role"]))
            self.spawn(self._recheck(conn))

    async def _recheck(self, conn: Conn) -> None:
        identity = conn.identity
        if identity is None or self.accounts is None:
            return
        from ..accounts import AccountError
        from ..accounts.errors import AccountDisabled

        try:
            conn.core.identity = await self.accounts.recheck(identity)
        except AccountDisabled:
            self.connections.drop(conn, CloseDecision(CLOSE_ACCOUNT_DISABLED, "account disabled"))
        except AccountError:
            self.connections.drop(conn, CloseDecision(CLOSE_SESSION_ENDED, "session ended"))
        except Exception:
            log.exception("could not re-check %s's connection", identity.user_id)
