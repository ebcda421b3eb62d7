"""Errors of the agent set-up, kept apart so the manager and the config loader share them."""

from __future__ import annotations

from ..settings import SettingsError

__all__ = ["ConfigError"]


class ConfigError(SettingsError, ValueError):
    """The agents are misconfigured; the message names the variable or file, entry and field.

    A ``SettingsError``, so ``python -m server`` prints it as one line and exits.
    """
