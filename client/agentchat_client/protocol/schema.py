"""The machine-readable contract: JSON Schema for every frame, both directions.

Generated from the same definitions the code uses (``client_frames`` models, ``server_frames``
shapes), so it cannot drift from them.  Write it with::

    python -m agentchat_client.protocol.schema docs/protocol.schema.json

and check it is current with ``--check`` (the test suite does).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter
from typing_extensions import TypedDict

from .client_frames import CLIENT_MODELS
from .server_frames import ServerFrame

__all__ = ["build_schema", "main"]


def _client_envelope(kind: str, model: type) -> type:
    name = "".join(part.title() for part in kind.split("_")) + "Request"
    fields: dict[str, Any] = {"type": Literal[kind], "data": model}  # type: ignore[valid-type]
    return TypedDict(name, fields)  # type: ignore[operator]


def build_schema() -> dict[str, Any]:
    envelopes = tuple(_client_envelope(kind.value, model) for kind, model in CLIENT_MODELS.items())
    client_frame = Annotated[Union[envelopes], Field(discriminator="type")]  # type: ignore[valid-type]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "AgentChat WebSocket protocol",
        "description": (
            "Every frame is a JSON text message {\"type\": ..., \"data\": {...}}. clientFrames: what a client "
            "may send; serverFrames: what the server sends. Generated from agentchat_client.protocol; "
            "see docs/protocol.md for the meaning of each frame."
        ),
        "clientFrames": TypeAdapter(client_frame).json_schema(mode="validation"),
        "serverFrames": TypeAdapter(ServerFrame).json_schema(mode="serialization"),
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentchat_client.protocol.schema", description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", help="write the schema here (default: print it)")
    parser.add_argument("--check", action="store_true", help="fail if the file at PATH is not current")
    args = parser.parse_args(argv)
    text = render()
    if not args.path:
        sys.stdout.write(text)
        return 0
    path = Path(args.path)
    if args.check:
        current = path.read_text("utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m agentchat_client.protocol.schema {path}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
