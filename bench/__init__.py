"""Benchmarks: AgentChat against a bare websockets server and the original design's server.

Run the whole comparison with ``.venv/bin/python -m bench`` (see ``bench/README.md``).
"""
