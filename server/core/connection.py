"""One connection's state machine: what it may send when, and what it receives meanwhile.

    CONNECTING ──auth ok──▶ AUTHENTICATED ──▶ CATCHING_UP ──▶ LIVE ──▶ CLOSING
         └──────── auth timeout / too slow / account ended ─────────────▶ CLOSING

While catching up (history or recovery being written to it) the connection does not receive
live frames directly: they are held, bounded in bytes and time, and flushed in order once the
catch-up is sent, skipping what the catch-up already contained.  A client that stops reading
during its catch-up overflows the bound or the deadline and is closed like any slow client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from agentchat_client.protocol import ErrorCode, MessageType, ProtocolError

from .events import Event
from .identity import Identity

__all__ = ["ConnState", "ConnectionLimits", "ConnectionCore", "CloseDecision", "CLOSE_POLICY", "CLOSE_TOO_BIG"]

CLOSE_POLICY = 1008
"""Policy violation: too slow, too many connections, no authentication in time."""
CLOSE_TOO_BIG = 1009


class ConnState(Enum):
    CONNECTING = "connecting"
    AUTHENTICATED = "authenticated"
    CATCHING_UP = "catching_up"
    LIVE = "live"
    CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    auth_timeout: float = 10.0
    """Seconds a socket may stay open without authenticating."""
    catch_up_timeout: float = 30.0
    """Seconds the catch-up (history or recovery) may take to write before the client is too slow."""
    catch_up_hold_bytes: int = 4 * 1024 * 1024
    """Live frames held for a client while it catches up, at most this many bytes."""
    typing_refresh: float = 1.0
    """A ``typing: true`` is relayed at most this often per connection (it is a refresh)."""


@dataclass(frozen=True, slots=True)
class CloseDecision:
    code: int
    reason: str


_BEFORE_AUTH = frozenset({MessageType.AUTH, MessageType.PING})


@dataclass(eq=False, slots=True)
class ConnectionCore:
    """Pure per-connection state; the hub owns the socket and asks this what to do."""

    id: str
    opened_at: float
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    state: ConnState = ConnState.CONNECTING
    identity: Identity | None = None
    held: list[Event] | None = None
    """Frames held during the catch-up (None when there are none: no list per idle connection)."""
    held_bytes: int = 0
    catch_up_started: float = 0.0
    typing_shown: bool = False
    typing_relayed_at: float = float("-inf")

    @property
    def user_id(self) -> str | None:
        return self.identity.user_id if self.identity is not None else None

    @property
    def receives_live(self) -> bool:
        return self.state is ConnState.LIVE

    # frames in ---------------------------------------------------------------------------
    def check_frame(self, kind: MessageType) -> None:
        """Raise the error a client gets for sending ``kind`` now."""
        if self.state is ConnState.CONNECTING:
            if kind not in _BEFORE_AUTH:
                raise ProtocolError(ErrorCode.NOT_AUTHENTICATED, "Send auth first")
        elif kind is MessageType.AUTH:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "This connection is already authenticated")

    # authentication ----------------------------------------------------------------------
    def auth_overdue(self, now: float) -> CloseDecision | None:
        if self.state is ConnState.CONNECTING and now - self.opened_at > self.limits.auth_timeout:
            return CloseDecision(CLOSE_POLICY, f"authenticate within {self.limits.auth_timeout:g} s")
        return None

    def authenticated(self, identity: Identity) -> None:
        if self.state is not ConnState.CONNECTING:
            raise RuntimeError(f"cannot authenticate a connection in state {self.state.name}")
        self.identity = identity
        self.state = ConnState.AUTHENTICATED

    # catching up -------------------------------------------------------------------------
    def start_catch_up(self, now: float) -> None:
        if self.state is not ConnState.AUTHENTICATED:
            raise RuntimeError(f"cannot catch up from state {self.state.name}")
        self.state = ConnState.CATCHING_UP
        self.catch_up_started = now

    def hold(self, event: Event) -> CloseDecision | None:
        """Keep a live event for after the catch-up; a decision to close when over the bound."""
        if self.state is not ConnState.CATCHING_UP:
            return None
        if self.held is None:
            self.held = []
        self.held.append(event)
        self.held_bytes += len(event.frame)
        if self.held_bytes > self.limits.catch_up_hold_bytes:
            return self.too_slow()
        return None

    def catch_up_overdue(self, now: float) -> CloseDecision | None:
        if self.state is ConnState.CATCHING_UP and now - self.catch_up_started > self.limits.catch_up_timeout:
            return self.too_slow()
        return None

    def take_held(self, caught_up_to: int) -> list[bytes]:
        """Frames held so far, minus messages the catch-up already sent (ids up to ``caught_up_to``)."""
        held, self.held, self.held_bytes = self.held, None, 0
        return [e.frame for e in held or () if e.message_id is None or e.message_id > caught_up_to]

    def go_live(self) -> None:
        """The catch-up and everything held are written: from now on frames go straight out."""
        if self.state is ConnState.CATCHING_UP and not self.held:
            self.state = ConnState.LIVE
            # Deadlines of states left behind: an idle live connection keeps no timestamps.
            self.opened_at = self.catch_up_started = 0.0

    # closing -----------------------------------------------------------------------------
    @staticmethod
    def too_slow() -> CloseDecision:
        return CloseDecision(CLOSE_POLICY, "client too slow")

    def closing(self) -> None:
        self.state = ConnState.CLOSING
        self.held, self.held_bytes = None, 0

    # typing ------------------------------------------------------------------------------
    def typing_relay(self, typing: bool, now: float) -> bool:
        """Whether this ``typing`` frame is relayed: a start at most once per refresh interval,
        a stop only after a relayed start.  A flood of either becomes at most two relays a second."""
        if typing:
            if now - self.typing_relayed_at < self.limits.typing_refresh:
                return False
            self.typing_shown, self.typing_relayed_at = True, now
            return True
        if not self.typing_shown:
            return False
        self.typing_shown = False
        return True
