"""``KeyedMemo`` (``assets/keyed_memo.jsx``): a message re-rendered only when it changed.

A new message re-sends its part of the log whole.  Reflex keeps the objects of unchanged
messages (its delta is merged structurally), so the check is by reference first and by value
only when the object is new.  Wrapped in this, a message whose value and page-wide values are
unchanged is skipped.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

__all__ = ["keyed_memo"]


class KeyedMemo(rx.Component):
    library = "$/public/keyed_memo.jsx"
    tag = "KeyedMemo"

    message: rx.Var[Any]
    """Compared by value."""
    page: rx.Var[list[Any]]
    """Compared one by one, by reference."""


def keyed_memo(child: rx.Component, key: rx.Var[str], message: rx.Var[Any], page: list[rx.Var[Any]]) -> rx.Component:
    """``key``: React's key in the list (``rx.foreach`` keys by position otherwise, and a message
    taking another's position re-used that one's elements: no new node for scripts to see)."""
    return KeyedMemo.create(child, key=key, message=message, page=page)
