"""Shared fixtures: a real server process per test module, and database URLs."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess

PG_ADMIN_URL = os.environ.get("AGENTCHAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with generous limits and no agents, shared by a module's tests."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("server"),
        AGENTCHAT_AGENTS_ENABLED="false",
        AGENTCHAT_RESPONSE_DELAY_SECONDS="0",
        AGENTCHAT_MAX_MESSAGES_PER_HOUR="100000",
    ).start()
    yield proc
    proc.stop()


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql],
        check=True, capture_output=True,
    )


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A scratch PostgreSQL database, dropped afterwards."""
    name = "agentchat_test_" + uuid.uuid4().hex[:10]
    try:
        _psql(f"CREATE DATABASE {name}")
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    yield f"{PG_ADMIN_URL}/{name}"
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chat.db'}"
    return request.getfixturevalue("pg_url")
