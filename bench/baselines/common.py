"""Shared start-up for the baseline servers: command line and file-descriptor limit."""

from __future__ import annotations

import argparse
import resource


def raise_nofile() -> int:
    """Lift the soft open-files limit to the hard one: 10,000 sockets need 10,000 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args()
