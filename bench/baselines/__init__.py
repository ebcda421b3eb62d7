"""Baseline servers the benchmark compares AgentChat with (each runs as its own process)."""
