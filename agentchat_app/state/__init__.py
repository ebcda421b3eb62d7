"""Reflex state, by concern: accounts, the chat session, administration."""
