"""``agentchat_client`` stands alone: installed by pip into an empty virtualenv, it brings no
database layer and no web app, and an agent written against it alone (the example in ``client/README.md``) answers in a real chat.

The install goes through pip as an agent author would run it (``pip install ./client``, from a
copy of that folder), with pip's cache.  The test is skipped only when the package index is genuinely unreachable; any
other failure of the install is a failure of the package.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT, ServerProcess, connect_as, token

pytestmark = pytest.mark.timeout(1200)

INSTALL_SECONDS = 900
FORBIDDEN = {"sqlalchemy", "sqlmodel", "alembic", "reflex"}
AGENT = "echo"


def readme_agent() -> str:
    """The agent example of ``client/README.md``: what an agent author copies is what runs here."""
    readme = (ROOT / "client" / "README.md").read_text()
    found = re.search(r"```python\n(.*?)```", readme, re.S)
    assert found, "client/README.md has no python example"
    code = found.group(1)
    assert "from agentchat_client import" in code
    assert not re.search(r"^\s*(from|import) (server|agentchat_app)\b", code, re.M)
    return code


REPORT_SCRIPT = textwrap.dedent('''
    import importlib.metadata, importlib.util, json
    import agentchat_client
    print(json.dumps({
        "distributions": sorted({d.metadata["Name"].lower().replace("_", "-") for d in importlib.metadata.distributions()}),
        "importable": {name: importlib.util.find_spec(name) is not None for name in ("server", "agentchat_app")},
        "package_file": agentchat_client.__file__,
    }))
''')


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a stranger's machine: nothing of this repository on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **extra}


def index_unreachable() -> str | None:
    """Why the package index cannot be reached, or None when it can."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    try:
        with urllib.request.urlopen(f"{index}/pip/", timeout=20) as response:
            response.read(1)
    except OSError as exc:
        return f"{index}: {exc}"
    return None


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty virtualenv with ``pip install <repo>/client`` done; its python."""
    home = tmp_path_factory.mktemp("client-venv")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True, capture_output=True,
                   timeout=300, env=clean_env())
    python = home / "venv" / "bin" / "python"
    # The source as committed, without the build/ and egg-info/ left by earlier builds (setuptools
    # would package stale files from build/) and without writing into the repository.
    source = shutil.copytree(ROOT / "client", home / "client",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    try:
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", str(source)],
            capture_output=True, text=True, timeout=INSTALL_SECONDS, cwd=home, env=clean_env(),
        )
    except subprocess.TimeoutExpired as exc:
        reason = index_unreachable()
        if reason:
            pytest.skip(f"the package index is unreachable, so pip cannot install the client ({reason})")
        raise AssertionError(f"pip install ./client took over {INSTALL_SECONDS} s: {exc.stderr!r}") from None
    if done.returncode != 0:
        reason = index_unreachable()
        if reason:
            pytest.skip(f"the package index is unreachable, so pip cannot install the client ({reason})")
        raise AssertionError(f"pip install ./client failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    yield python


def test_the_installed_package_brings_no_server_and_no_web_app(venv: Path, tmp_path: Path) -> None:
    out = subprocess.run([str(venv), "-c", REPORT_SCRIPT], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env=clean_env(), check=True)
    report = json.loads(out.stdout)
    installed = set(report["distributions"])
    assert "agentchat-client" in installed
    assert not FORBIDDEN & installed, f"the client drags in {sorted(FORBIDDEN & installed)}: {sorted(installed)}"
    assert report["importable"] == {"server": False, "agentchat_app": False}
    assert Path(report["package_file"]).is_relative_to(venv.parent.parent), report["package_file"]


async def test_an_agent_written_against_the_package_answers_a_mention(
    venv: Path, tmp_path: Path, server: ServerProcess
) -> None:
    script = tmp_path / "echo.py"
    script.write_text(readme_agent())
    log_path = tmp_path / "echo.log"
    alice = await connect_as(server.url, "alice")
    with log_path.open("wb") as log:  # noqa: ASYNC230 - opening a local file does not wait on anything
        agent = await asyncio.create_subprocess_exec(
            str(venv), str(script), cwd=tmp_path, stdout=log, stderr=log,
            env=clean_env(AGENTCHAT_URL=server.url, AGENTCHAT_TOKEN=token(AGENT, "agent")),
        )
    try:
        try:
            await alice.expect("user_presence", timeout=120, userId=AGENT, status="online")
            sent = await alice.say(f"@{AGENT} are you there?")
            reply = await alice.expect("agent_response", timeout=60, sender=AGENT, replyTo=sent["id"])
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the agent's output:\n{log_path.read_text()[-3000:]}") from None
        assert reply["text"] == f"alice said: @{AGENT} are you there?"
    finally:
        agent.terminate()
        await asyncio.wait_for(agent.wait(), 30)
        await alice.close()
