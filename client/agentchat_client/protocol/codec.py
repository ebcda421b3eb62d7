"""JSON in and out: UTF-8 bytes via orjson, the one encoder both directions use."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["encode", "decode", "DecodeError"]

DecodeError = orjson.JSONDecodeError


def encode(payload: Any) -> bytes:
    """JSON as UTF-8 bytes (send them as a text frame)."""
    return orjson.dumps(payload)


def decode(raw: str | bytes) -> Any:
    return orjson.loads(raw)
