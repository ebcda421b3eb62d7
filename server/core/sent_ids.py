"""Which client ids each person already posted: a retried ``message`` is never stored twice.

A client that sent a message and lost its connection before the echo cannot know whether the
server got it, so it sends the same frame again (same ``id``) after reconnecting.  The hub asks
this memory first: a known ``(sender, id)`` with the same content is not posted again; the
sender gets the original message instead, which confirms it.  The same id with other content is
a new message (clients that number their messages from 1 again after a restart keep working).  The memory is bounded (per person and in people), so a
client that never stops inventing ids costs a fixed amount; it is per process (a retry reaches
the same process in practice: the app's bridge reconnects to the same server).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

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
        self._by_person: OrderedDict[str, OrderedDict[ClientId, tuple[int, int]]] = OrderedDict()
        """sender -> client id -> (fingerprint of the content, message id or IN_FLIGHT)."""

    def claim(self, sender: str, client_id: ClientId | None, content: Hashable = None) -> int | None:
        """``None``: new, go ahead and post (it is now in flight); otherwise the message id already
        posted with this client id and ``content``, or ``IN_FLIGHT`` while it is being stored."""
        if client_id is None:
            return None
        fingerprint = hash(content)
        ids = self._by_person.get(sender)
        if ids is not None:
            self._by_person.move_to_end(sender)
            known = ids.get(client_id)
            if known is not None and known[0] == fingerprint:
                return known[1]
        else:
            ids = self._by_person[sender] = OrderedDict()
            while len(self._by_person) > self.people:
                self._by_person.popitem(last=False)
        ids[client_id] = (fingerprint, IN_FLIGHT)
        ids.move_to_end(client_id)
        while len(ids) > self.per_person:
            ids.popitem(last=False)
        return None

    def posted(self, sender: str, client_id: ClientId | None, message_id: int) -> None:
        """The claimed message was stored with ``message_id``."""
        ids = self._by_person.get(sender)
        if client_id is not None and ids is not None and client_id in ids:
            ids[client_id] = (ids[client_id][0], message_id)

    def release(self, sender: str, client_id: ClientId | None) -> None:
        """The claimed message was refused (an error went back): a retry may post it."""
        ids = self._by_person.get(sender)
        if client_id is not None and ids is not None and client_id in ids and ids[client_id][1] == IN_FLIGHT:
            del ids[client_id]
