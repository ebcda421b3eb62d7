"""The built-in agents, on by default (``AGENTCHAT_BUILTIN_AGENTS=helper,tasks,files``)."""

from __future__ import annotations

from collections.abc import Callable

from ...settings import Settings
from ..base import Agent
from .files import FilesAgent
from .helper import HelperAgent
from .tasks import TasksAgent

__all__ = ["BUILTINS", "FilesAgent", "HelperAgent", "TasksAgent"]

BUILTINS: dict[str, Callable[[Settings], Agent]] = {
    "helper": HelperAgent,
    "tasks": TasksAgent,
    "files": FilesAgent,
}
"""Name in ``AGENTCHAT_BUILTIN_AGENTS`` -> factory taking the settings."""
