"""``LocalTime`` (``assets/local_time.jsx``): a message's time in the reader's zone, drawn at once.

``rx.moment`` formats in an effect after its first render, so each new message was committed
twice in every tab; this formats during the render (``HH:mm``, or ``MMM D, HH:mm`` with the day).
"""

from __future__ import annotations

import reflex as rx

__all__ = ["local_time"]


class LocalTime(rx.Component):
    library = "$/public/local_time.jsx"
    tag = "LocalTime"

    value: rx.Var[str]
    """An ISO 8601 timestamp; shown as the element's title and ``dateTime`` too."""
    with_day: rx.Var[bool]
    """Month and day before the time (search results span days)."""


def local_time(value: rx.Var[str], class_name: str, with_day: bool = False) -> rx.Component:
    return LocalTime.create(value=value, with_day=with_day, class_name=class_name)
