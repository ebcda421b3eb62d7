"""What the composer shows, in a state of its own.

Every component that reads a Reflex state re-renders in the browser whenever any var of that
state changes.  The draft changes with typing and is cleared by every send; while it was a var
of ``ChatState`` each change re-rendered the whole chat page in the sender's tab, which kept
that tab busy just when the answers and the others' messages arrive.  ``ChatState``'s events
(``set_draft``, ``send``, ``start_reply``...) write these vars.
"""

from __future__ import annotations

import reflex as rx

from ..chat.models import PendingFile

__all__ = ["ComposerState"]


class ComposerState(rx.State):
    draft: str = ""
    suggestions: list[str] = []
    """People whose name starts with the ``@name`` being typed."""
    reply_to_id: int = 0
    reply_to_sender: str = ""
    reply_to_excerpt: str = ""
    pending_files: list[PendingFile] = []
    """Uploaded, to go with the next message."""
    uploading: bool = False
