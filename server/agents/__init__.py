"""The agent system: ``AgentManager``, the ``Agent`` base, built-in and LLM agents.

``ServerRuntime`` builds ``AgentManager(manager, settings)`` and awaits ``start()`` before the
server listens and ``stop()`` on shutdown.  Agents in other processes use
``agentchat_client.AgentClient`` (the installable client package) instead.
"""

from .base import Agent, AgentError, Status, UsageError, snippet, strip_mention
from .host import AgentManager, TelegramAgent

__all__ = ["Agent", "AgentError", "AgentManager", "Status", "TelegramAgent", "UsageError", "snippet", "strip_mention"]
