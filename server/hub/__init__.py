"""The asyncio layer around ``server.core``: connections, the frame pump, and the chat service."""

from .connections import Conn, Connections
from .hub import AgentInfo, Hub, MessageListener, StopCallback
from .service import ChatService
from .tokens import AccountsAuthenticator, Authenticator, AuthRefused, TokenAuthenticator

__all__ = [
    "Hub",
    "AgentInfo",
    "MessageListener",
    "StopCallback",
    "ChatService",
    "Conn",
    "Connections",
    "Authenticator",
    "AuthRefused",
    "TokenAuthenticator",
    "AccountsAuthenticator",
]
