"""Writing encoded events to many sockets: each WebSocket frame built once, one write per socket per batch.

``websockets.broadcast`` builds the same frame again for every recipient (a ``Frame``, its checks,
a ``BytesIO``) and hands it to the transport with a ``send()`` system call of its own.  A frame
from server to client is never masked, and ``endpoint.py`` negotiates no extension
(``compression=None``), so its bytes are the same for every recipient: ``text_frame`` builds
them once per event.  While one commit batch is being announced (``FrameWriter.batch``), the
frames bound for one socket are joined and written with a single call: at saturation a socket
gets one system call per batch instead of one per message, in the same order.

A socket that negotiated an extension (none do today) still gets its frames through
``websockets.broadcast``; a closed or closing socket, or one in the middle of a fragmented send,
is skipped exactly as ``broadcast`` skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.protocol import OPEN

__all__ = ["FrameWriter", "text_frame"]

log = logging.getLogger(__name__)

_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    """``payload`` as one unmasked, final text frame (RFC 6455 section 5.2), header and all."""
    size = len(payload)
    if size < 126:
        head = bytes((_FIN_TEXT, size))
    elif size < 65536:
        head = bytes((_FIN_TEXT, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((_FIN_TEXT, 127)) + size.to_bytes(8, "big")
    return head + payload


def _write(sockets: Iterable[ServerConnection], data: bytes) -> list[ServerConnection] | None:
    """Write the ready-made frames ``data`` to every open socket; return those that need ``broadcast``."""
    others: list[ServerConnection] | None = None
    for ws in sockets:
        protocol = ws.protocol
        if protocol.state is not OPEN:
            continue
        if ws.send_in_progress is not None:
            ws.logger.warning("skipped broadcast: sending a fragmented message")
            continue
        if protocol.extensions:
            others = [ws] if others is None else [*others, ws]
            continue
        try:
            ws.transport.write(data)
        except Exception as exc:  # the transport's own errors: the socket is going away
            ws.logger.warning("skipped broadcast: failed to write message: %s", exc)
    return others


def _send(sockets: Iterable[ServerConnection], data: bytes, payloads: list[bytes]) -> None:
    others = _write(sockets, data)
    if others:
        for payload in payloads:
            broadcast(others, payload, text=True)


class FrameWriter:
    """Writes each event's frame to its sockets now, or, inside ``batch()``, when the batch ends."""

    def __init__(self) -> None:
        self._depth = 0
        self._pending: list[tuple[Iterable[ServerConnection], bytes, bytes]] = []

    def write(self, sockets: Iterable[ServerConnection], payload: bytes, frame: bytes) -> None:
        """Send ``frame`` (``payload`` framed by ``text_frame``) to ``sockets``, in call order."""
        if self._depth:
            self._pending.append((sockets, payload, frame))
        else:
            _send(sockets, frame, [payload])

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold writes until the outermost batch ends, then write each socket's share at once.

        Only for code that does not await inside: nothing else may write to a socket meanwhile.
        """
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._pending:
                pending, self._pending = self._pending, []
                try:
                    self._flush(pending)
                except Exception:  # never into the store's commit loop: log it, keep delivering
                    log.exception("writing a batch of %d frames failed", len(pending))

    @staticmethod
    def _flush(pending: list[tuple[Iterable[ServerConnection], bytes, bytes]]) -> None:
        # Runs of events for the very same recipients (the whole room: one object) join first.
        runs: list[tuple[Iterable[ServerConnection], list[bytes], list[bytes]]] = []
        for sockets, payload, frame in pending:
            if runs and runs[-1][0] is sockets:
                runs[-1][1].append(payload)
                runs[-1][2].append(frame)
            else:
                runs.append((sockets, [payload], [frame]))
        if len(runs) == 1:
            sockets, payloads, frames = runs[0]
            _send(sockets, b"".join(frames), payloads)
            return
        # Different recipients: gather each socket's share, in order, into one write.
        joined = [b"".join(frames) for _, _, frames in runs]
        per_socket: dict[ServerConnection, list[int]] = {}
        for index, (sockets, _, _) in enumerate(runs):
            for ws in sockets:
                mine = per_socket.get(ws)
                if mine is None:
                    per_socket[ws] = [index]
                else:
                    mine.append(index)
        for ws, indexes in per_socket.items():
            data = joined[indexes[0]] if len(indexes) == 1 else b"".join([joined[i] for i in indexes])
            others = _write((ws,), data)
            if others:
                for i in indexes:
                    for payload in runs[i][1]:
                        broadcast(others, payload, text=True)
