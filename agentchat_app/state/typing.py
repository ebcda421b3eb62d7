"""Who is typing, in a state of its own.

Every component that reads a state re-renders in the browser when any of that state's vars
changes.  A typing notice comes twice per message (typing, then not), so as a var of ``ChatState``
it re-rendered the whole chat page, message list and all, in every other tab; here it re-renders
the one line that shows it.  ``ChatState`` writes it (``_show_typing``).
"""

from __future__ import annotations

import reflex as rx

__all__ = ["TypingState"]


class TypingState(rx.State):
    text: str = ""
    """"bob is typing…" for the room or thread on screen; empty when nobody is."""
