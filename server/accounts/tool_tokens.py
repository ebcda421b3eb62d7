"""People's own tokens for per-user MCP servers, encrypted at rest.

Each person stores a token per per-user server (``/settings`` in the app); agents read it only
to make that person's calls.  The tokens are Fernet-encrypted (AES-128-CBC + HMAC-SHA256) in
``<data dir>/mcp_tokens.json`` with a key kept in ``<data dir>/mcp_tokens.key`` (mode 0600,
made on first use, like ``jwt_secret``).  Nothing here hands a token back to the HTTP API:
:meth:`ToolTokens.listing` gives masked hints only.

The file is read on every lookup and replaced atomically under a lock, so several server
processes on one data directory agree (for several machines, share the data directory).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["ToolTokens", "TokenHint", "mask", "MAX_TOKEN_CHARS"]

MAX_TOKEN_CHARS = 8192


def mask(token: str) -> str:
    """``"ghp_…wxyz"``-style hint: the last four characters of a long token, nothing of a short one."""
    return "••••" + token[-4:] if len(token) >= 12 else "••••"


@dataclass(frozen=True, slots=True)
class TokenHint:
    server: str
    hint: str
    updated_at: float


class ToolTokens:
    """Set, clear, list (masked) and read one person's tokens."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir)
        self.path = self.dir / "mcp_tokens.json"
        self.key_path = self.dir / "mcp_tokens.key"
        self._fernet: Fernet | None = None

    # the key ------------------------------------------------------------------------------
    def _cipher(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(self._key())
        return self._fernet

    def _key(self) -> bytes:
        try:
            key = self.key_path.read_bytes().strip()
            if key:
                return key
        except FileNotFoundError:
            pass
        self.dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:  # O_EXCL: two processes starting at once agree on the first key written
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.key_path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key

    # the file -----------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        tokens = data.get("tokens") if isinstance(data, dict) else None
        return tokens if isinstance(tokens, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, dict[str, Any]]]]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "mcp_tokens.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                tokens = self._load()
                yield tokens
                tmp = self.path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"version": 1, "tokens": tokens}, handle)
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # the API --------------------------------------------------------------------------------
    def set(self, user: str, server: str, token: str) -> TokenHint:
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_CHARS or any(c in token for c in "\r\n\0"):
            raise ValueError(f"a token is 1 to {MAX_TOKEN_CHARS} characters on one line")
        sealed = self._cipher().encrypt(token.encode()).decode()
        hint = TokenHint(server, mask(token), time.time())
        with self._locked() as tokens:
            tokens.setdefault(user, {})[server] = {"token": sealed, "hint": hint.hint, "updatedAt": hint.updated_at}
        return hint

    def clear(self, user: str, server: str) -> bool:
        with self._locked() as tokens:
            mine = tokens.get(user, {})
            found = mine.pop(server, None) is not None
            if not mine:
                tokens.pop(user, None)
        return found

    def listing(self, user: str) -> list[TokenHint]:
        """The servers this person has a token for, each with a masked hint (never the token)."""
        mine = self._load().get(user, {})
        return [TokenHint(server, str(entry.get("hint", "••••")), float(entry.get("updatedAt", 0)))
                for server, entry in sorted(mine.items()) if isinstance(entry, dict)]

    def get(self, user: str, server: str) -> str | None:
        """The person's token for ``server``, for their own calls only; None without one (or if
        it cannot be decrypted: the key changed)."""
        entry = self._load().get(user, {}).get(server)
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        try:
            return self._cipher().decrypt(entry["token"].encode()).decode()
        except InvalidToken:
            return None
