"""AgentChat's client package: the wire protocol and the client that speaks it."""
