"""Putting messages from several server processes back into id order.

With several processes inserting into one database, message 11 (committed by process B) can be
published before message 10 (committed by A).  ``Reorder`` is the pure core of the receive side:
events in, events ready for delivery out, no clocks and no I/O.  A message whose predecessor has
not arrived is held; the I/O layer (``RedisFanout``) waits a moment, then reads the gap from the
database and calls ``fill``: ids found there are delivered from the database, ids absent there
never committed (a rolled-back sequence value) and are skipped.

Other events (presence, typing, status...) are not numbered: they keep their arrival place
behind any message held before them, so the order of one publisher is kept.
"""

from __future__ import annotations

from collections import deque

from ...core.events import Event

__all__ = ["Reorder"]


class Reorder:
    def __init__(self, last_id: int = 0) -> None:
        self.last = last_id
        """The newest message id delivered (or known to be older than anything we will see)."""
        self.held: dict[int, Event] = {}
        self._waiting: deque[tuple[int, Event]] = deque()
        self._seen_max = last_id
        self._target = last_id

    @property
    def needs_repair(self) -> bool:
        """True while a gap keeps messages (or a sync hint) waiting for the database."""
        return bool(self.held) or self._target > self.last

    @property
    def repair_target(self) -> int:
        """Fill everything up to this id to release what is held."""
        return max(self._target, max(self.held, default=self.last))

    def push(self, event: Event) -> list[Event]:
        """Accept one event; return the events now ready, in delivery order."""
        mid = event.message_id
        if mid is None:
            if not self.held and not self._waiting:
                return [event]
            self._waiting.append((self._seen_max, event))
            return self._drain([])
        if mid <= self.last or mid in self.held:
            return []  # already delivered (a copy from the database or a repeat): never twice
        self.held[mid] = event
        self._seen_max = max(self._seen_max, mid)
        return self._drain([])

    def sync(self, upto: int) -> None:
        """Messages up to ``upto`` exist (after a Redis reconnect): fetch them even with nothing held."""
        self._target = max(self._target, upto)

    def fill(self, upto: int, found: dict[int, Event]) -> list[Event]:
        """Release everything up to ``upto``: held events, else ``found`` (from the database), else skip."""
        out: list[Event] = []
        ids = sorted({m for m in self.held if m <= upto} | {m for m in found if self.last < m <= upto})
        for mid in ids:
            self._release_waiting_before(mid, out)
            event = self.held.pop(mid, None) or found[mid]
            out.append(event)
            self.last = mid
        self.last = max(self.last, upto)
        self._seen_max = max(self._seen_max, self.last)
        return self._drain(out)

    def _release_waiting_before(self, mid: int, out: list[Event]) -> None:
        while self._waiting and self._waiting[0][0] < mid:
            out.append(self._waiting.popleft()[1])

    def _drain(self, out: list[Event]) -> list[Event]:
        while True:
            if self._waiting and self._waiting[0][0] <= self.last:
                out.append(self._waiting.popleft()[1])
                continue
            event = self.held.pop(self.last + 1, None)
            if event is None:
                break
            self.last += 1
            out.append(event)
        if not self.held:
            # Nothing numbered is pending, so nothing unnumbered has to wait either.
            out.extend(e for _, e in self._waiting)
            self._waiting.clear()
        return out
