"""``scripts/reflex_prod.py``: when ``./scripts/run`` may serve the existing frontend build.

Serving a stale build would show people an old app, so every input that shapes the build must
change the fingerprint, and a build made by anything but this launcher must not count as current.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "reflex_prod", Path(__file__).resolve().parent.parent / "scripts" / "reflex_prod.py")
assert _SPEC is not None and _SPEC.loader is not None
reflex_prod = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(reflex_prod)

ARGS = ["--env", "prod", "--single-port", "--frontend-port", "3000"]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "agentchat_app" / "pages").mkdir(parents=True)
    (tmp_path / "agentchat_app" / "pages" / "chat.py").write_text("TITLE = 'chat'\n")
    (tmp_path / "assets" / "external").mkdir(parents=True)
    (tmp_path / "assets" / "app.css").write_text("body {}\n")
    (tmp_path / "rxconfig.py").write_text("config = None\n")
    (tmp_path / "requirements.txt").write_text("reflex==0.10.0\n")
    return tmp_path


def digest(root: Path, args: list[str] = ARGS, env: dict[str, str] | None = None, version: str = "0.10.0") -> str:
    return reflex_prod.fingerprint(root, args, env or {"HOME": "/root"}, version)


def test_fingerprint_is_stable_for_the_same_inputs(project: Path) -> None:
    assert digest(project) == digest(project)


@pytest.mark.parametrize("path", ["agentchat_app/pages/chat.py", "assets/app.css", "rxconfig.py", "requirements.txt"])
def test_a_changed_source_file_changes_the_fingerprint(project: Path, path: str) -> None:
    before = digest(project)
    with (project / path).open("a") as file:
        file.write("# changed\n")
    assert digest(project) != before


def test_a_new_page_changes_the_fingerprint(project: Path) -> None:
    before = digest(project)
    (project / "agentchat_app" / "pages" / "admin.py").write_text("TITLE = 'admin'\n")
    assert digest(project) != before


def test_files_the_build_or_python_writes_do_not_count(project: Path) -> None:
    before = digest(project)
    (project / "agentchat_app" / "pages" / "__pycache__").mkdir()
    (project / "agentchat_app" / "pages" / "__pycache__" / "chat.cpython-311.pyc").write_bytes(b"\0")
    (project / "assets" / "external" / "generated.js").write_text("x\n")
    assert digest(project) == before


def test_other_ports_reflex_or_app_settings_change_the_fingerprint(project: Path) -> None:
    before = digest(project)
    assert digest(project, args=[*ARGS[:-1], "3001"]) != before
    assert digest(project, version="0.10.1") != before
    assert digest(project, env={"REFLEX_API_URL": "http://example.test"}) != before
    assert digest(project, env={"AGENTCHAT_PORT": "9000"}) != before
    assert digest(project, env={"HOME": "/elsewhere"}) == before


def test_no_build_on_disk_is_never_current(project: Path) -> None:
    outputs = (project / ".web" / "build" / "client" / "index.html", project / ".web" / "env.json")
    stamp = project / ".web" / "stamp"
    assert reflex_prod.stamp_text("abc", outputs) is None
    assert not reflex_prod.build_is_current("abc", stamp, outputs)


def test_the_build_this_launcher_stamped_is_current_until_inputs_or_build_change(project: Path) -> None:
    index = project / ".web" / "build" / "client" / "index.html"
    env_json = project / ".web" / "env.json"
    index.parent.mkdir(parents=True)
    index.write_text("<html></html>")
    env_json.write_text("{}")
    outputs = (index, env_json)
    stamp = project / ".web" / "stamp"

    assert not reflex_prod.build_is_current("abc", stamp, outputs)  # built, never stamped
    text = reflex_prod.stamp_text("abc", outputs)
    assert text is not None
    stamp.write_text(text)
    assert reflex_prod.build_is_current("abc", stamp, outputs)
    assert not reflex_prod.build_is_current("abd", stamp, outputs)

    # Another command (another `reflex run`, `reflex export`) rebuilt .web: not ours any more.
    later = env_json.stat().st_mtime_ns + 1_000_000_000
    os.utime(env_json, ns=(later, later))
    assert not reflex_prod.build_is_current("abc", stamp, outputs)
