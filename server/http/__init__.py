"""Plain HTTP on the companion server's port: the JSON API, served by ASGI beside the WebSocket hub."""

from .api import ApiContext
from .asgi import build_app
from .switch import HttpLayer, SwitchingConnection, connection_factory

__all__ = ["ApiContext", "build_app", "HttpLayer", "SwitchingConnection", "connection_factory"]
