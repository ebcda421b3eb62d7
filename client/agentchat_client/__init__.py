"""AgentChat's client package: the wire protocol and the client that speaks it.

    from agentchat_client import AgentClient, ParsedMessage

``protocol`` defines every frame (both directions); ``session`` is the sans-I/O client core
(connection state, ``auth``, resume position, back-off); ``connection`` the asyncio layer
around it; ``agent`` the ``AgentClient`` built on that; ``message`` the ``ParsedMessage`` agents
receive.  Dependencies: websockets, pydantic and orjson, nothing of the server.
"""

from .agent import AgentClient
from .connection import AuthError, Connection, NotConnected
from .message import MessageParser, ParsedMessage
from .session import Backoff, ClientSession, LinkState

__all__ = [
    "AgentClient",
    "AuthError",
    "ParsedMessage",
    "MessageParser",
    "Connection",
    "NotConnected",
    "ClientSession",
    "LinkState",
    "Backoff",
]
