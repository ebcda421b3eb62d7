"""Reflex configuration for the AgentChat browser app.

Ports come from the usual Reflex variables (``REFLEX_FRONTEND_PORT``, ``REFLEX_BACKEND_PORT``,
``REFLEX_API_URL``) or ``reflex run --frontend-port/--backend-port``.  Data files (SQLite,
uploads, JWT secret) live in ``AGENTCHAT_DATA_DIR`` (default ``data/``), outside the app
package, and are excluded from the dev server's hot reload.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import reflex as rx

_ROOT = Path(__file__).resolve().parent


def _exclude_data_from_hot_reload() -> None:
    """A new message writes to SQLite; that must not restart the dev backend."""
    if os.environ.get("REFLEX_HOT_RELOAD_EXCLUDE_PATHS"):
        return
    data_dir = Path(os.environ.get("AGENTCHAT_DATA_DIR", "data"))
    if not data_dir.is_absolute():
        data_dir = _ROOT / data_dir
    candidates = [data_dir, _ROOT / "tests", _ROOT / "bench", _ROOT / "docs"]
    existing = []
    for path in candidates:
        if path == data_dir:
            path.mkdir(parents=True, exist_ok=True)
        if path.exists():
            existing.append(str(path))
    os.environ["REFLEX_HOT_RELOAD_EXCLUDE_PATHS"] = ":".join(existing)


_exclude_data_from_hot_reload()


class _QuietReflexAdvice(logging.Filter):
    """Two of Reflex's log lines mislead people who run this app with ``./scripts/run``:

    - the first build runs ``reflex init``, which ends with "Run `uv run reflex run` to start the
      app": another command than ours (the app is already starting); the advice is cut off;
    - "Your version (...) of Node.js is out of date": with a Node older than 22.22 Reflex builds
      with Bun's own runtime (``bun --bun``), which is the path we test; Node only serves npm to
      install Bun (README, "Quick start"), so the warning (printed once per build step) is dropped.
    """

    _ADVICE = re.compile(r"\s*(Run|Install dependencies) .*`uv (run|pip) .*$", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "of Node.js is out of date" in message:
            return False
        if "`uv run reflex run`" in message:
            record.msg, record.args = self._ADVICE.sub("", message), ()
        return True


for _name in ("reflex.reflex", "reflex.utils.js_runtimes"):
    logging.getLogger(_name).addFilter(_QuietReflexAdvice())

config = rx.Config(
    app_name="agentchat_app",
    # Reflex binds its backend to 0.0.0.0 by default; listen on loopback unless told otherwise
    # (REFLEX_BACKEND_HOST=0.0.0.0 or `reflex run --backend-host 0.0.0.0`, see docs/app.md).
    backend_host="127.0.0.1",
    # Sessions hold only a bounded window of messages; memory is the fastest manager and
    # sign-in survives a backend restart through the session cookie.
    state_manager_mode="memory",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="system",
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="violet", gray_color="slate", radius="large", appearance="inherit")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # recharts takes "@reduxjs/toolkit 2.x"; 2.16.0 needs immer ^11.2.14, which the package
    # registry this machine reaches does not have yet: pin the last release that installs.
    frontend_packages=["@reduxjs/toolkit@2.15.0"],
)
