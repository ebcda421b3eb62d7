"""AgentChat's browser client, written in Python with Reflex."""
