"""New chat messages straight through the database driver: the hot path of every message.

For a batch of one message, SQLAlchemy's execute machinery (statement cache keys, result
objects, the ORM session) costs more than the INSERT itself.  This compiles the INSERT once per
dialect, applies the columns' own bind processors (so the stored values are exactly what the
ORM path would store: JSON text, SQLite's datetime strings) and talks to one DB-API connection
directly.  The store uses it on SQLite only, on the event loop (``messages.py``); edits,
deletes, reactions, thread replies and PostgreSQL keep the SQLAlchemy path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, insert
from sqlalchemy.engine import Engine

from ..records import Message
from ..tables import MessageRow

__all__ = ["FastInsert"]

_TABLE = MessageRow.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")


def _quick(kind: Any, sqlite: bool, process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``process`` (the column type's own bind processor), with its common cases done cheaply:
    most JSON columns of a new message are empty, and SQLite's datetime text is one f-string.
    Same output as ``process`` (tested)."""
    if process is None:
        return None
    if isinstance(kind, JSON):
        def json_value(value: Any, process: Callable[[Any], Any] = process) -> Any:
            if value == [] and isinstance(value, list):
                return "[]"
            if value == {} and isinstance(value, dict):
                return "{}"
            return process(value)
        return json_value if sqlite else process
    if sqlite and isinstance(kind, DateTime):
        def sqlite_datetime(v: datetime | None) -> str | None:
            if v is None:
                return None
            return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
                    f".{v.microsecond:06d}")
        return sqlite_datetime
    if sqlite and isinstance(kind, Boolean):
        return lambda v: None if v is None else int(v)
    return process


class FastInsert:
    """One INSERT per message on a connection of its own, one commit per batch.

    Not thread-safe: the caller serialises (the store's write lock)."""

    def __init__(self, engine: Engine, lock_key: int) -> None:
        self.engine = engine
        dialect = engine.dialect
        self.sqlite = dialect.name == "sqlite"
        self.lock_key = lock_key
        # SQLite: lastrowid (no RETURNING needed); PostgreSQL: RETURNING id.
        statement = insert(_TABLE) if self.sqlite else insert(_TABLE).returning(_TABLE.c.id)
        compiled = statement.compile(dialect=dialect, column_keys=list(_COLUMNS))
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        order = list(compiled.positiontup or ()) if self.positional else list(_COLUMNS)
        self.columns: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, _quick(_TABLE.c[name].type, self.sqlite, _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)))
            for name in order
        ]
        self._names = [name for name, _ in self.columns]
        self._get = attrgetter(*self._names)
        self._processors = [(i, process) for i, (_, process) in enumerate(self.columns) if process is not None]
        self._conn: Any = None

    def _params(self, draft: Message) -> list[Any] | dict[str, Any]:
        values = list(self._get(draft))
        for index, process in self._processors:
            values[index] = process(values[index])
        return values if self.positional else dict(zip(self._names, values))

    def insert(self, drafts: list[Message]) -> None:
        """Insert and commit ``drafts`` in one transaction; set their ids (in order) once committed."""
        if self._conn is None:
            self._conn = self.engine.raw_connection()  # the engine's connect hooks (pragmas) apply
            if self.sqlite:
                # A commit that crosses the WAL's size limit would copy the WAL into the database
                # (and fsync both) right there, on the event loop: 4-8 ms for ~1 % of messages.
                # The store checkpoints from a thread instead (``Database.checkpoint``).
                cursor = self._conn.cursor()
                cursor.execute("PRAGMA wal_autocheckpoint=0")
                cursor.close()
        conn = self._conn
        ids: list[int] = []
        try:
            cursor = conn.cursor()
            if not self.sqlite:
                # Several server processes: ids taken and committed in the same order (see messages.py).
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))
            for draft in drafts:
                cursor.execute(self.sql, self._params(draft))
                ids.append(cursor.lastrowid if self.sqlite else cursor.fetchone()[0])
            cursor.close()
            conn.commit()
        except BaseException:
            self._conn = None
            conn.invalidate()  # closed, not returned to the pool: a fresh connection next time
            raise
        for draft, message_id in zip(drafts, ids):
            draft.id = message_id

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.rollback()
            except Exception:
                pass
            try:
                conn.close()
            except Exception:
                pass
