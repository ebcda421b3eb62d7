"""Baseline 2: the original design document's server (section 3.1), for comparison.

DELIBERATE COPY.  Everything between the two ``# ---- BEGIN/END`` markers is the document's
``src/chat/websocket_manager.py`` copied verbatim, bugs and all, because this baseline must
show what users of the original design run today.  Do not "fix" it.  Only three lines are
changed, each marked ``CHANGED``: its ``MessageParser``/``ParsedMessage`` import and its
``chat_config`` import point at the tiny stand-ins below, and ``handle_connection`` takes
``path`` as optional because websockets 17 calls handlers with the connection alone.
``websockets.serve`` is called with the document's (default) options.

What the copy does, as written: auth accepts any ``userId`` (the token is never checked),
connections are keyed by user id, every broadcast awaits ``send`` to each connection in turn
(re-encoding the JSON for each), and the rate limiter keeps a list of every send time.

    python -m bench.baselines.original_server --port 8765
"""

from __future__ import annotations

import asyncio as _asyncio
import logging as _logging
from dataclasses import dataclass as _dataclass, field as _field
from datetime import datetime as _datetime
from types import SimpleNamespace as _SimpleNamespace
from typing import Any as _Any

from .common import parse_args as _parse_args, raise_nofile as _raise_nofile


# ---- stand-ins for the modules the document's code imports ----------------------------
@_dataclass
class ParsedMessage:
    """The fields the document's code passes to ``ParsedMessage(...)``."""

    message_id: _Any
    text: str
    sender: str
    timestamp: _datetime
    mentions: list = _field(default_factory=list)
    is_command: bool = False
    reply_to: _Any = None


class MessageParser:
    """Unused by the broadcast path; the document only instantiates it."""


# The benchmark's rate limits: as for AgentChat, high enough never to throttle the test.
chat_config = _SimpleNamespace(max_messages_per_hour=1_000_000_000, response_delay_seconds=0)


# ---- BEGIN verbatim copy of the design document, section 3.1 --------------------------
import asyncio
import json
import logging
import websockets
from datetime import datetime
from typing import Dict, List, Optional, Callable, Set
# CHANGED (1/3): was `from .message_parser import MessageParser, ParsedMessage`;
# the tiny stand-ins are defined above this copy.

logger = logging.getLogger(__name__)

class WebSocketConnection:
    """Represents a single WebSocket connection"""
    
    def __init__(self, websocket, user_id: str, role: str):
        self.websocket = websocket
        self.user_id = user_id
        self.role = role
        self.connected_at = datetime.now()
        self.last_activity = datetime.now()
        
    async def send(self, message: dict):
        """Send message to this connection"""
        try:
            await self.websocket.send(json.dumps(message))
            self.last_activity = datetime.now()
        except websockets.exceptions.ConnectionClosed:
            logger.warning(f"Connection closed for user {self.user_id}")
            raise

class WebSocketManager:
    """WebSocket-based communication manager - drop-in replacement for TelegramManager"""
    
    def __init__(self, host="localhost", port=8081):
        self.host = host
        self.port = port
        self.message_parser = MessageParser()
        self.message_handlers: List[Callable[[ParsedMessage], None]] = []
        
        # Connection management
        self.connections: Dict[str, WebSocketConnection] = {}
        self.user_sessions: Dict[str, str] = {}  # user_id -> session_id
        
        # Rate limiting (reuse TelegramManager logic)
        self.last_message_time = {}
        self.message_count = {}
        
        # Server state
        self.server = None
        self.running = False
        
    def add_message_handler(self, handler: Callable[[ParsedMessage], None]):
        """Add a message handler function - same interface as TelegramManager"""
        self.message_handlers.append(handler)
        
    async def start_server(self):
        """Start the WebSocket server"""
        if self.running:
            logger.warning("WebSocket server already running")
            return
            
        logger.info(f"Starting WebSocket server on {self.host}:{self.port}")
        
        self.server = await websockets.serve(
            self.handle_connection,
            self.host,
            self.port
        )
        
        self.running = True
        logger.info("WebSocket server started successfully")
        
    async def stop_server(self):
        """Stop the WebSocket server"""
        if not self.running:
            return
            
        logger.info("Stopping WebSocket server")
        
        # Close all connections
        for connection in list(self.connections.values()):
            await connection.websocket.close()
            
        if self.server:
            self.server.close()
            await self.server.wait_closed()
            
        self.running = False
        logger.info("WebSocket server stopped")
        
    # CHANGED (2/3): websockets >= 14 calls the handler with the connection only.
    async def handle_connection(self, websocket, path=None):
        """Handle new WebSocket connection"""
        logger.info(f"New WebSocket connection from {websocket.remote_address}")
        
        try:
            async for message in websocket:
                await self.handle_message(websocket, message)
        except websockets.exceptions.ConnectionClosed:
            logger.info("WebSocket connection closed")
        except Exception as e:
            logger.error(f"Error handling WebSocket connection: {e}")
        finally:
            await self.cleanup_connection(websocket)
            
    async def handle_message(self, websocket, raw_message: str):
        """Handle incoming WebSocket message"""
        try:
            message_data = json.loads(raw_message)
            message_type = message_data.get('type')
            data = message_data.get('data', {})
            
            if message_type == 'auth':
                await self.handle_auth(websocket, data)
            elif message_type == 'message':
                await self.handle_chat_message(websocket, data)
            elif message_type == 'ping':
                await self.handle_ping(websocket)
            else:
                logger.warning(f"Unknown message type: {message_type}")
                
        except json.JSONDecodeError:
            logger.error("Invalid JSON received")
            await self.send_error(websocket, "INVALID_JSON", "Invalid JSON format")
        except Exception as e:
            logger.error(f"Error handling message: {e}")
            await self.send_error(websocket, "INTERNAL_ERROR", str(e))
            
    async def handle_auth(self, websocket, data: dict):
        """Handle user authentication"""
        user_id = data.get('userId')
        role = data.get('role', 'user')
        
        if not user_id:
            await self.send_error(websocket, "MISSING_USER_ID", "User ID required")
            return
            
        # Create connection
        connection = WebSocketConnection(websocket, user_id, role)
        self.connections[user_id] = connection
        
        # Send auth response
        await connection.send({
            'type': 'auth_response',
            'data': {
                'success': True,
                'userId': user_id,
                'sessionId': f"session-{user_id}-{int(datetime.now().timestamp())}",
                'agents': list(self.connections.keys())
            }
        })
        
        # Notify other users
        await self.broadcast_user_presence(user_id, 'online')
        
        logger.info(f"User {user_id} authenticated successfully")
        
    async def handle_chat_message(self, websocket, data: dict):
        """Handle chat message from user"""
        # Find connection
        connection = None
        for conn in self.connections.values():
            if conn.websocket == websocket:
                connection = conn
                break
                
        if not connection:
            await self.send_error(websocket, "NOT_AUTHENTICATED", "Authentication required")
            return
            
        # Check rate limiting
        if not self._can_send_message(connection.user_id):
            await self.send_error(websocket, "RATE_LIMITED", "Too many messages")
            return
            
        # Create ParsedMessage (reuse existing logic)
        message_id = data.get('id', int(datetime.now().timestamp() * 1000))
        text = data.get('text', '')
        mentions = data.get('mentions', [])
        
        parsed_message = ParsedMessage(
            message_id=message_id,
            text=text,
            sender=connection.user_id,
            timestamp=datetime.now(),
            mentions=mentions,
            is_command=text.startswith('/'),
            reply_to=data.get('replyTo')
        )
        
        # Broadcast to all connections
        await self.broadcast_message(parsed_message)
        
        # Notify message handlers (existing agent system)
        for handler in self.message_handlers:
            try:
                handler(parsed_message)
            except Exception as e:
                logger.error(f"Error in message handler: {e}")
                
        self._record_message_sent(connection.user_id)
        
    async def broadcast_message(self, message: ParsedMessage):
        """Broadcast message to all connected clients"""
        message_data = {
            'type': 'message',
            'data': {
                'id': message.message_id,
                'text': message.text,
                'sender': message.sender,
                'timestamp': message.timestamp.isoformat(),
                'mentions': message.mentions,
                'isCommand': message.is_command,
                'replyTo': message.reply_to
            }
        }
        
        # Send to all connections
        disconnected = []
        for user_id, connection in self.connections.items():
            try:
                await connection.send(message_data)
            except websockets.exceptions.ConnectionClosed:
                disconnected.append(user_id)
                
        # Clean up disconnected users
        for user_id in disconnected:
            await self.cleanup_user(user_id)
            
    def send_message(self, text: str, sender_name: str = "system", 
                    reply_to: Optional[int] = None) -> bool:
        """Send message from agent - same interface as TelegramManager"""
        
        # Create message data
        message_data = {
            'type': 'agent_response',
            'data': {
                'id': int(datetime.now().timestamp() * 1000),
                'text': text,
                'sender': sender_name,
                'timestamp': datetime.now().isoformat(),
                'replyTo': reply_to
            }
        }
        
        # Send to all connections (async operation in sync context)
        asyncio.create_task(self._send_to_all_connections(message_data))
        return True
        
    async def _send_to_all_connections(self, message_data: dict):
        """Helper to send message to all connections"""
        disconnected = []
        for user_id, connection in self.connections.items():
            try:
                await connection.send(message_data)
            except websockets.exceptions.ConnectionClosed:
                disconnected.append(user_id)
                
        # Clean up disconnected users
        for user_id in disconnected:
            await self.cleanup_user(user_id)
            
    async def broadcast_user_presence(self, user_id: str, status: str):
        """Broadcast user presence change"""
        presence_data = {
            'type': 'user_presence',
            'data': {
                'userId': user_id,
                'status': status,
                'timestamp': datetime.now().isoformat()
            }
        }
        
        await self._send_to_all_connections(presence_data)
        
    async def send_error(self, websocket, code: str, message: str):
        """Send error message to specific connection"""
        error_data = {
            'type': 'error',
            'data': {
                'code': code,
                'message': message,
                'timestamp': datetime.now().isoformat()
            }
        }
        
        try:
            await websocket.send(json.dumps(error_data))
        except websockets.exceptions.ConnectionClosed:
            pass
            
    async def handle_ping(self, websocket):
        """Handle ping message"""
        pong_data = {
            'type': 'pong',
            'data': {
                'timestamp': datetime.now().isoformat()
            }
        }
        
        try:
            await websocket.send(json.dumps(pong_data))
        except websockets.exceptions.ConnectionClosed:
            pass
            
    async def cleanup_connection(self, websocket):
        """Clean up when connection is closed"""
        # Find and remove connection
        user_to_remove = None
        for user_id, connection in self.connections.items():
            if connection.websocket == websocket:
                user_to_remove = user_id
                break
                
        if user_to_remove:
            await self.cleanup_user(user_to_remove)
            
    async def cleanup_user(self, user_id: str):
        """Clean up user data"""
        if user_id in self.connections:
            del self.connections[user_id]
            
        if user_id in self.user_sessions:
            del self.user_sessions[user_id]
            
        # Notify other users
        await self.broadcast_user_presence(user_id, 'offline')
        
        logger.info(f"Cleaned up user {user_id}")
        
    def _can_send_message(self, sender_name: str) -> bool:
        """Check rate limiting - reuse TelegramManager logic"""
        from datetime import timedelta
        # CHANGED (3/3): was `from src.chat.chat_config import config`; the stand-in is above.
        config = chat_config
        
        now = datetime.now()
        hour_ago = now - timedelta(hours=1)
        
        # Clean old message counts
        if sender_name in self.message_count:
            self.message_count[sender_name] = [
                timestamp for timestamp in self.message_count[sender_name]
                if timestamp > hour_ago
            ]
        else:
            self.message_count[sender_name] = []
            
        # Check rate limit
        if len(self.message_count[sender_name]) >= config.max_messages_per_hour:
            return False
            
        # Check minimum delay between messages
        if sender_name in self.last_message_time:
            time_since_last = now - self.last_message_time[sender_name]
            if time_since_last.total_seconds() < config.response_delay_seconds:
                return False
                
        return True
        
    def _record_message_sent(self, sender_name: str):
        """Record message for rate limiting"""
        now = datetime.now()
        self.last_message_time[sender_name] = now
        
        if sender_name not in self.message_count:
            self.message_count[sender_name] = []
        self.message_count[sender_name].append(now)
        
    def is_connected(self) -> bool:
        """Check if server is running"""
        return self.running and len(self.connections) > 0

# ---- END verbatim copy ----------------------------------------------------------------


async def _main(host: str, port: int) -> None:
    manager = WebSocketManager(host=host, port=port)
    await manager.start_server()
    await _asyncio.Event().wait()


if __name__ == "__main__":
    _args = _parse_args("the original design's WebSocketManager")
    _raise_nofile()
    _logging.basicConfig(level=_logging.WARNING)
    _asyncio.run(_main(_args.host, _args.port))
