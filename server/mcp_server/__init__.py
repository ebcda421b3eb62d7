"""AgentChat as an MCP server: ``/mcp`` on the companion server's port (see ``endpoint``)."""

from .endpoint import MCP_PATH, McpEndpoint

__all__ = ["MCP_PATH", "McpEndpoint"]
