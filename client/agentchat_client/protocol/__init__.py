"""The AgentChat wire protocol, defined once for both directions.

Frames are JSON text ``{"type": ..., "data": {...}}`` with the camelCase field names of the
original design document (section 2).  ``client_frames`` holds what a client may send (pydantic
models, validated by ``decode_frame``); ``server_frames`` what a server sends (typed shapes and
builders); ``common`` the names both share.  The server, the Reflex app, ``AgentClient`` and the
tests all import from here; ``docs/protocol.schema.json`` is generated from these definitions.
"""

from .agui import *  # noqa: F403
from .agui import __all__ as _agui_all
from .client_frames import *  # noqa: F403
from .client_frames import __all__ as _client_all
from .codec import decode, encode
from .common import *  # noqa: F403
from .common import __all__ as _common_all
from .server_frames import *  # noqa: F403
from .server_frames import __all__ as _server_all

__all__ = [*_common_all, *_client_all, *_server_all, *_agui_all, "encode", "decode"]
