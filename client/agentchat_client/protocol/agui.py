"""AG-UI events inside AgentChat frames: built, validated and serialised with ``ag-ui-protocol``.

An agent's run is a sequence of AG-UI events (``RUN_STARTED``, ``STEP_STARTED``,
``TOOL_CALL_START``...).  They travel inside ``agent_event`` frames exactly as the package's
models serialise them (camelCase, ``model_dump(by_alias=True, mode="json")``, never
``exclude_none``: a ``CUSTOM`` event's required ``value`` may be null).  Nothing here redefines
an event: :data:`AGUI_EVENT` is the package's own discriminated union.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from ag_ui.core import PROTOCOL_VERSION, BaseEvent, Event, EventType
from pydantic import TypeAdapter, ValidationError

__all__ = [
    "AGUI_EVENT",
    "AGUI_PROTOCOL_VERSION",
    "MAX_EVENT_BYTES",
    "TERMINAL_EVENTS",
    "EventType",
    "describe_event_error",
    "event_dict",
    "normalise_event",
    "parse_event",
]

AGUI_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
"""Validates one AG-UI event given as a dict (``AGUI_EVENT.validate_python``); built once."""
AGUI_PROTOCOL_VERSION = PROTOCOL_VERSION
MAX_EVENT_BYTES = 64 * 1024
"""One event's JSON is at most this many bytes (a tool result longer than that is cut by the run API)."""
TERMINAL_EVENTS = frozenset({EventType.RUN_FINISHED.value, EventType.RUN_ERROR.value})
"""The event types that end a run: nothing may follow them."""


def event_dict(event: BaseEvent) -> dict[str, Any]:
    """The wire form of an event: camelCase keys, plain JSON values, optional fields left out."""
    return event.model_dump(by_alias=True, mode="json")


def describe_event_error(exc: ValidationError) -> str:
    """``TEXT_MESSAGE_CONTENT.delta: Field required``, for an error frame a person can act on."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        kind = err["type"]
        if kind == "union_tag_invalid" and not err["loc"]:
            tag = (err.get("ctx") or {}).get("tag")
            message = f"unknown AG-UI event type {tag!r}"
        elif kind == "union_tag_not_found" and not err["loc"]:
            message = 'an AG-UI event needs a "type"'
        else:
            message = err["msg"]
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_event(data: Mapping[str, Any]) -> BaseEvent:
    """The package's model for ``data``; :class:`ValueError` (with a readable message) if invalid."""
    try:
        return AGUI_EVENT.validate_python(dict(data))  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise ValueError(describe_event_error(exc)) from None


def normalise_event(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``data`` as an AG-UI event and return it as the package serialises it.

    Bounded: an event whose JSON is over :data:`MAX_EVENT_BYTES` is refused."""
    size = len(orjson.dumps(data))
    if size > MAX_EVENT_BYTES:
        raise ValueError(f"the event is {size} bytes; the limit is {MAX_EVENT_BYTES}")
    return event_dict(parse_event(data))
