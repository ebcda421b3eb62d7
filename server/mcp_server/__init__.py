"""AgentChat as an MCP server: ``/mcp`` on the companion server's port (see ``endpoint``).

``tools`` decides (pure), ``calls`` does (through the hub's services), ``endpoint`` authenticates
and owns the SDK's lifetime, ``sdk`` speaks MCP (imported on the first request)."""

from .endpoint import MCP_PATH, McpEndpoint

__all__ = ["MCP_PATH", "McpEndpoint"]
