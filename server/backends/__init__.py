"""Pluggable back ends, one shape each: ``<concern>/base.py`` (the interface), ``memory.py``
(one process, the default) and ``redis.py`` (several processes): fan-out, presence, rate limits
and the agent directory.  ``factory.py`` picks them from the settings."""

from .agent_directory import AgentDirectory
from .factory import make_agent_directory, make_fanout, make_limiter, make_presence
from .fanout import Deliver, Fanout
from .presence import Presence, PresenceChange
from .ratelimit import RateLimiter

__all__ = [
    "AgentDirectory",
    "Fanout",
    "Deliver",
    "Presence",
    "PresenceChange",
    "RateLimiter",
    "make_fanout",
    "make_presence",
    "make_limiter",
    "make_agent_directory",
]
