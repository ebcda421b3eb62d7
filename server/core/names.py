"""User names: one spelling shown, one normalised key that must be unique.

A name is normalised with Unicode NFKC (so a full-width "ａｌｉｃｅ" becomes "alice") and must
then match the protocol's ``USERNAME_PATTERN``: 1-32 ASCII letters, digits, ``_`` or ``-``, not
starting with ``-``.  Uniqueness is on the *key*: the NFKC form, case-folded, so "Alice" and
"alice" cannot both sign up.  Built-in agent names are reserved for agents.
"""

from __future__ import annotations

import unicodedata

from agentchat_client.protocol import USERNAME_PATTERN, is_valid_username

__all__ = ["normalise_name", "name_key", "RESERVED_NAMES", "NAME_RULE", "USERNAME_PATTERN", "DISAMBIGUATOR"]

RESERVED_NAMES = frozenset({"helper", "tasks", "files", "system", "here", "channel", "everyone"})
"""Never available to people: the built-in agents, the sender of server notices, and the words
``@here`` / ``@channel`` / ``@everyone`` address the people of a room with."""
NAME_RULE = "A username is 1-32 letters, digits, '_' or '-' (not starting with '-')."
DISAMBIGUATOR = "~"
"""Not in the username character set: ``key~2`` marks a legacy clash kept working by the migration."""


def normalise_name(raw: str) -> str | None:
    """The name as it will be stored and shown, or None when it is not an allowed name."""
    name = unicodedata.normalize("NFKC", raw.strip())
    return name if is_valid_username(name) else None


def name_key(name: str) -> str:
    """The case-insensitive identity of a name (unique across accounts)."""
    return unicodedata.normalize("NFKC", name).casefold()
