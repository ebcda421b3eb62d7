"""My unconfirmed messages on screen, as a Reflex state mixin of ``ChatState``.

The decisions are the session's ``Outbox`` (``chat/outbox.py``): this shows its entries at the
end of the log (``LogState.pending``, ``state/log.py``), sends what is due through the bridge
(after a send, and after every batch of frames, so what waited for a reconnect goes out once it
is back), and offers Retry and Discard for a message the server refused.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from agentchat_client.protocol import MessageType

from .composer import ComposerState

__all__ = ["OutboxMixin"]


class OutboxMixin(rx.State, mixin=True):
    async def _flush_outbox(self, bridge: Any) -> bool:
        """Send what is due; True if anything changed on screen."""
        outbox = bridge.session.outbox
        due = outbox.due()
        for item in due:
            if not await bridge.send(MessageType.MESSAGE, item.frame()):
                outbox.unsent(item.client_id)
        return bool(due)

    @rx.event
    async def retry_send(self, client_id: int):
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return
        if bridge.session.outbox.retry(client_id):
            await self._flush_outbox(bridge)
        await self._show_pending(bridge.session)  # type: ignore[attr-defined]

    @rx.event
    async def discard_send(self, client_id: int):
        """Give up a refused message; its text goes back into the composer if that is empty."""
        bridge = self._bridge()  # type: ignore[attr-defined]
        if bridge is None:
            return
        item = bridge.session.outbox.discard(client_id)
        await self._show_pending(bridge.session)  # type: ignore[attr-defined]
        if item is None:
            return
        composer = await self.get_state(ComposerState)
        if not composer.draft.strip():
            composer.draft = item.text
