"""Which client ids each person already posted: a retried ``message`` is never stored twice.

A client that sent a message and lost its connection before the echo cannot know whether the
server got it, so it sends the same frame again (same ``id``) after reconnecting.  The hub asks
this memory first: a known ``(sender, id)`` is not posted again; the sender gets the original
message instead, which confirms it.  The memory is bounded (per person and in people), so a
client that never stops inventing ids costs a fixed amount; it is per process (a retry reaches
the same process in practice: the app's bridge reconnects to the same server).
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["SentIds", "IN_FLIGHT", "PER_PERSON", "PEOPLE"]

IN_FLIGHT = 0
"""Claimed but not committed yet: the original's echo is still on its way to everyone."""
PER_PERSON = 256
"""Newest client ids remembered per person (a retry comes within seconds or minutes)."""
PEOPLE = 10_000
"""People remembered; the one who posted least recently is forgotten first."""

ClientId = int | str


class SentIds:
    def __init__(self, per_person: int = PER_PERSON, people: int = PEOPLE) -> None:
        self.per_person = per_person
        self.people = people
        self._by_person: OrderedDict[str, OrderedDict[ClientId, int]] = OrderedDict()

    def claim(self, sender: str, client_id: ClientId | None) -> int | None:
        """``None``: new, go ahead and post (it is now in flight); otherwise the message id already
        posted with this client id, or ``IN_FLIGHT`` while the first one is being stored."""
        if client_id is None:
            return None
        ids = self._by_person.get(sender)
        if ids is not None:
            self._by_person.move_to_end(sender)
            known = ids.get(client_id)
            if known is not None:
                return known
        else:
            ids = self._by_person[sender] = OrderedDict()
            while len(self._by_person) > self.people:
                self._by_person.popitem(last=False)
        ids[client_id] = IN_FLIGHT
        while len(ids) > self.per_person:
            ids.popitem(last=False)
        return None

    def posted(self, sender: str, client_id: ClientId | None, message_id: int) -> None:
        """The claimed message was stored with ``message_id``."""
        ids = self._by_person.get(sender)
        if client_id is not None and ids is not None and client_id in ids:
            ids[client_id] = message_id

    def release(self, sender: str, client_id: ClientId | None) -> None:
        """The claimed message was refused (an error went back): a retry may post it."""
        ids = self._by_person.get(sender)
        if client_id is not None and ids is not None and ids.get(client_id) == IN_FLIGHT:
            del ids[client_id]
