"""The client's side of one chat connection, without sockets: what to send, what a frame means,
when to try again.

Sans-I/O, in the manner of ``websockets``' ``protocol.py``: the I/O layer (``connection.py``)
tells the core what happened and the core answers with bytes to send and decisions.  No
sockets, no event loop; the clock and the random source are injected, so every decision is
tested in microseconds (``tests/test_client_session.py``).

The life of a connection::

    DISCONNECTED --connecting()--> CONNECTING --auth_frame()--> AUTHENTICATING
    AUTHENTICATING --receive(auth_response, success)--> LIVE
    AUTHENTICATING --receive(auth_response, refused)--> AUTH_REJECTED      (terminal)
    CONNECTING | AUTHENTICATING | LIVE --connection_lost()--> DISCONNECTED (then the back-off delay)
    any --close()--> CLOSED                                                (terminal)

Resuming: the core remembers the newest message id it has seen (live ``message`` /
``agent_response`` frames, the newest ``history`` page, ``recovery``) and sends it as
``lastMessageId`` in the next ``auth``, so the server replays exactly what was missed, once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeGuard

from .protocol import ErrorCode, MessageType, client_frame, decode
from .protocol.codec import DecodeError

__all__ = [
    "LinkState",
    "AuthOutcome",
    "Backoff",
    "ClientSession",
    "InvalidState",
    "FrameError",
    "decode_server_frame",
    "TRANSIENT_AUTH_ERRORS",
]


class LinkState(Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    LIVE = "live"
    AUTH_REJECTED = "auth_rejected"
    CLOSED = "closed"


class AuthOutcome(Enum):
    """What an answer to ``auth`` means for the connection."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    """Refused for good (a bad, expired or wrongly signed token): reconnecting would not help."""
    RETRY = "retry"
    """The server could not answer now (it failed, or is busy): drop the link and try again later."""


TRANSIENT_AUTH_ERRORS = frozenset({ErrorCode.INTERNAL_ERROR.value, ErrorCode.RATE_LIMITED.value})
"""Refusals worth another attempt; any other failed ``auth_response`` is final."""
_REFUSALS = frozenset({ErrorCode.AUTH_FAILED.value, ErrorCode.MISSING_USER_ID.value, ErrorCode.FORBIDDEN.value})
"""``error`` frames that refuse an ``auth`` (for servers that send them without an ``auth_response``)."""


class InvalidState(RuntimeError):
    """The I/O layer called the core in a state where that event cannot happen (a bug)."""


class FrameError(ValueError):
    """Bytes from the server that are not a frame (not JSON, or not ``{"type": ..., "data": ...}``)."""


def decode_server_frame(raw: str | bytes) -> dict[str, Any]:
    """One frame from the server as a dict with a string ``type`` and a dict ``data``."""
    try:
        frame = decode(raw)
    except DecodeError:
        raise FrameError("the server sent something that is not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError('the server sent JSON that is not a {"type", "data"} frame')
    if not isinstance(frame.get("data"), dict):
        frame["data"] = {}
    return frame


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before attempt ``step`` (0 first): ``first`` growing by ``factor`` up to
    ``most``, each shortened by up to ``jitter`` (a share) at random, so that many clients cut
    off together (a server restart) do not all come back in the same instant.  Never above
    ``most``, never below ``first * (1 - jitter)``."""

    first: float = 0.5
    most: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not self.first > 0:
            raise ValueError(f"the first back-off must be positive, not {self.first!r}")
        if self.most < self.first:
            raise ValueError(f"the longest back-off ({self.most!r}) is shorter than the first ({self.first!r})")
        if self.factor < 1:
            raise ValueError(f"the back-off factor must be at least 1, not {self.factor!r}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"the back-off jitter is a share in [0, 1), not {self.jitter!r}")

    def delay(self, step: int, rng: Callable[[], float] = random.random) -> float:
        try:
            base = min(self.most, self.first * float(self.factor) ** max(step, 0))
        except OverflowError:  # a client that has retried for a very long time
            base = self.most
        return base * (1.0 - self.jitter * rng())


class ClientSession:
    """One client's connection state, resume position and back-off; no I/O.

    ``resume_from`` starts with a known position (what a screen already shows).
    ``resume_from_welcome``: with no position yet, start from the newest message the server
    reports in ``auth_response`` (an agent answers what arrives after it first connected).
    ``stable_after``: a link that stayed live this long resets the back-off; one dropped sooner
    (a server that accepts and then fails) keeps growing it.
    """

    def __init__(
        self,
        user_id: str,
        token: str,
        *,
        role: str | None = None,
        resume_from: int | None = None,
        resume_from_welcome: bool = False,
        backoff: Backoff | None = None,
        stable_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.user_id = user_id
        self.token = token
        self.role = role
        self.last_message_id: int | None = resume_from
        """The newest message id seen: sent as ``lastMessageId`` when reconnecting."""
        self.resume_from_welcome = resume_from_welcome
        self.backoff = backoff or Backoff()
        self.stable_after = stable_after
        self.clock = clock
        self.rng = rng
        self.state = LinkState.DISCONNECTED
        self.welcome: dict[str, Any] = {}
        """The data of the last accepted ``auth_response`` (members, agents, ``lastMessageId``...)."""
        self.rejection: dict[str, Any] = {}
        """``{"code", "message"}`` of the refusal, once AUTH_REJECTED."""
        self.failures = 0
        """Links lost since the last one that reached LIVE (a UI says "Disconnected" past a few)."""
        self._step = 0
        self._live_since: float | None = None
        self._lost_track = False

    # --- properties ---------------------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        return self.state is LinkState.LIVE

    @property
    def finished(self) -> bool:
        """Closed, or refused for good: no further attempt will be made."""
        return self.state in (LinkState.CLOSED, LinkState.AUTH_REJECTED)

    def _expect(self, *states: LinkState) -> None:
        if self.state not in states:
            wanted = " or ".join(s.name for s in states)
            raise InvalidState(f"the link is {self.state.name}, not {wanted}")

    # --- connecting ---------------------------------------------------------------------------
    def connecting(self) -> None:
        """The I/O layer starts opening a socket."""
        self._expect(LinkState.DISCONNECTED)
        self.state = LinkState.CONNECTING

    def auth_data(self) -> dict[str, Any]:
        """The ``auth`` frame's data: who we are, and where to resume when we know."""
        data: dict[str, Any] = {"userId": self.user_id, "token": self.token}
        if self.role is not None:
            data["role"] = self.role  # the design document's shape; the server reads the role from the token
        if self.last_message_id is not None:
            data["lastMessageId"] = self.last_message_id
        return data

    def auth_frame(self, extra: Mapping[str, Any] | None = None) -> bytes:
        """The socket is open: the encoded ``auth`` frame to send first (``extra`` fields ride
        along; the server ignores those it does not know)."""
        self._expect(LinkState.CONNECTING)
        self.state = LinkState.AUTHENTICATING
        return client_frame(MessageType.AUTH, {**self.auth_data(), **(extra or {})})

    # --- receiving ----------------------------------------------------------------------------
    def receive(self, frame: Mapping[str, Any]) -> AuthOutcome | None:
        """Account for one decoded frame; while authenticating, say what the answer means."""
        kind = frame.get("type")
        data = frame.get("data")
        if not isinstance(data, Mapping):
            data = {}
        if self.state is LinkState.AUTHENTICATING:
            if kind == MessageType.AUTH_RESPONSE:
                return self._on_auth_response(data)
            if kind == MessageType.ERROR:
                return self._on_auth_error(data)
        if kind in (MessageType.MESSAGE, MessageType.AGENT_RESPONSE):
            self._saw(data.get("id"))
        elif kind == MessageType.MESSAGE_UPDATED:  # edits, deletes, reactions share the id sequence
            self._saw(data.get("eventId"))
        elif kind == MessageType.HISTORY and data.get("beforeId") is None:
            self._on_newest_page(data)
        elif kind == MessageType.RECOVERY:
            self._saw(data.get("lastMessageId"))
        return None

    def classify_auth_response(self, data: Mapping[str, Any]) -> AuthOutcome:
        """Accepted, refused for good, or worth another attempt (pure: no state changes)."""
        if data.get("success") is True:
            return AuthOutcome.ACCEPTED
        error = data.get("error")
        code = error.get("code") if isinstance(error, Mapping) else None
        return AuthOutcome.RETRY if code in TRANSIENT_AUTH_ERRORS else AuthOutcome.REJECTED

    def _on_auth_response(self, data: Mapping[str, Any]) -> AuthOutcome:
        outcome = self.classify_auth_response(data)
        if outcome is AuthOutcome.ACCEPTED:
            self._accepted(data)
        elif outcome is AuthOutcome.REJECTED:
            error = data.get("error")
            self._rejected(error if isinstance(error, Mapping) else {})
        return outcome

    def _on_auth_error(self, data: Mapping[str, Any]) -> AuthOutcome | None:
        code = data.get("code")
        if code in TRANSIENT_AUTH_ERRORS:
            return AuthOutcome.RETRY
        if code in _REFUSALS:
            self._rejected(data)
            return AuthOutcome.REJECTED
        return None  # not about our auth; the I/O layer's timeout covers a server that never answers

    def _accepted(self, data: Mapping[str, Any]) -> None:
        self.state = LinkState.LIVE
        self.welcome = dict(data)
        self.failures = 0
        self._live_since = self.clock()
        newest = data.get("lastMessageId")
        if _is_id(newest):
            if self.last_message_id is None and self.resume_from_welcome and not self._lost_track:
                self.last_message_id = newest
            elif self.last_message_id is not None and newest < self.last_message_id:
                # The server has fewer messages than we saw: its database was reset.  Follow it,
                # or every new message (ids from 1 again) would look already seen.
                self.last_message_id = newest

    def _rejected(self, error: Mapping[str, Any]) -> None:
        self.state = LinkState.AUTH_REJECTED
        self.rejection = {"code": error.get("code") or ErrorCode.AUTH_FAILED.value,
                          "message": error.get("message") or "authentication failed"}

    def ended_by_server(self, close_code: int, reason: str) -> None:
        """The server closed the link for good (``CloseCode.FINAL``: the session was signed out
        or revoked, the account disabled): like a refused ``auth``, reconnecting would not help."""
        self.state = LinkState.AUTH_REJECTED
        self.rejection = {"code": ErrorCode.AUTH_FAILED.value, "message": reason or "session ended",
                          "closeCode": close_code}

    def _saw(self, message_id: Any) -> None:
        if self._lost_track or not _is_id(message_id):
            return
        if self.last_message_id is None or message_id > self.last_message_id:
            self.last_message_id = message_id

    def _on_newest_page(self, data: Mapping[str, Any]) -> None:
        """The newest page is a fresh start: after it, the position is known again."""
        ids = [
            item["data"]["id"]
            for item in data.get("messages") or []
            if isinstance(item, Mapping) and isinstance(item.get("data"), Mapping) and _is_id(item["data"].get("id"))
        ]
        self._lost_track = False
        if ids:
            self._saw(max(ids))

    def lose_track(self) -> None:
        """Frames were received but dropped before anyone read them (a client's full queue): the
        next ``auth`` asks for a fresh page instead of resuming, until a newest ``history`` page
        arrives and gives the position back."""
        self.last_message_id = None
        self._lost_track = True

    # --- losing the link ----------------------------------------------------------------------
    def connection_lost(self) -> float | None:
        """The socket is gone (or was never opened).  Seconds to wait before the next attempt,
        or None when there will be none (closed, or refused for good)."""
        if self.finished:
            return None
        self._expect(LinkState.CONNECTING, LinkState.AUTHENTICATING, LinkState.LIVE)
        stayed_up = self._live_since is not None and self.clock() - self._live_since >= self.stable_after
        if self.state is LinkState.LIVE and stayed_up:
            self._step = 0
        self.state = LinkState.DISCONNECTED
        self._live_since = None
        self.failures += 1
        delay = self.backoff.delay(self._step, self.rng)
        self._step += 1
        return delay

    def close(self) -> None:
        """The user is done with the connection: no more attempts."""
        self.state = LinkState.CLOSED


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
