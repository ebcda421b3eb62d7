"""Presence bookkeeping: online with the first connection, offline with the last."""

from __future__ import annotations

from server.backends.presence import MemoryPresence


async def test_many_tabs_one_presence() -> None:
    presence = MemoryPresence()
    assert await presence.connect("alice", "tab1") is True
    assert await presence.connect("alice", "tab2") is False
    assert await presence.online() == {"alice"}
    assert await presence.disconnect("alice", "tab1") is False
    assert await presence.disconnect("alice", "tab1") is False  # twice is harmless
    assert await presence.disconnect("alice", "tab2") is True
    assert await presence.online() == set()
