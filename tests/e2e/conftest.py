"""Start the whole stack for browser tests and drive it with Playwright (sync API).

- the companion server: ``python -m server`` on a free port, with a temporary data dir and a
  fixed JWT secret (the tests restart it to check reconnection);
- the Reflex app: ``reflex run --env prod --single-port`` on a free port, pointed at that
  server with ``AGENTCHAT_SERVER_URL``, built in ``.tools/web-e2e`` so it never disturbs a
  developer's ``.web``;
- Debian's Chromium, headless.

Run them on their own: ``source scripts/frontend_env.sh && .venv/bin/pytest tests/e2e``.
Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("AGENTCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
PASSWORD = "correct horse battery staple"
PLACEHOLDER = "Type a message... Use @username to mention someone"
_names = itertools.count(1)
SEND_SPACING_MS = 550

expect.set_options(timeout=20_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-4000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except Exception:
            time.sleep(0.3)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s:\n{tail}")


def stop_process(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class Stack:
    base_url: str
    server_port: int
    env: dict[str, str]
    workdir: Path
    server: subprocess.Popen | None = None
    app: subprocess.Popen | None = None
    restarts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def server_url(self) -> str:
        return f"ws://127.0.0.1:{self.server_port}/ws"

    def start_server(self) -> None:
        log = self.workdir / f"server-{self.restarts}.log"
        self.logs.append(log)
        self.server = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(self.server_port)],
            cwd=ROOT, env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_http(f"http://127.0.0.1:{self.server_port}/healthz", 120, self.server, log)

    def stop_server(self) -> None:
        stop_process(self.server)
        self.server = None

    def restart_server(self, pause: float = 1.0) -> None:
        self.stop_server()
        time.sleep(pause)
        self.restarts += 1
        self.start_server()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="agentchat-e2e-"))
    data = workdir / "data"
    agents_config = workdir / "agents.toml"  # a per-user MCP server for /settings (no agents of its own)
    agents_config.write_text('[mcp_servers.tracker]\nurl = "http://127.0.0.1:9/mcp"\nper_user = true\n'
                             'description = "The issue tracker, as you"\n')
    env = dict(os.environ)
    env.update({
        "AGENTCHAT_AGENTS_CONFIG": str(agents_config),
        "AGENTCHAT_DATA_DIR": str(data),
        "AGENTCHAT_UPLOAD_DIR": str(data / "uploads"),
        "AGENTCHAT_JWT_SECRET": "e2e-secret-" + "x" * 40,
        "AGENTCHAT_ALLOWED_ORIGINS": "*",
        "AGENTCHAT_DATABASE_URL": "",
        "AGENTCHAT_REDIS_URL": "",
        "AGENTCHAT_HOST": "127.0.0.1",
        "AGENTCHAT_SIGNIN_THROTTLE_SECONDS": "120",  # the throttle test must not race a busy machine
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_WEB_WORKDIR": str(ROOT / ".tools" / "web-e2e"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    })
    bun_bin = ROOT / ".tools" / "bun" / "node_modules" / ".bin"
    if not (bun_bin / "bun").exists():
        pytest.exit("Bun is missing: run `source scripts/frontend_env.sh` first", returncode=2)
    env["PATH"] = f"{bun_bin}:{env.get('PATH', '')}"
    app_port = free_port()
    server_port = free_port()
    env["AGENTCHAT_SERVER_URL"] = f"ws://127.0.0.1:{server_port}/ws"
    env["AGENTCHAT_PORT"] = str(server_port)
    stack = Stack(base_url=f"http://127.0.0.1:{app_port}", server_port=server_port, env=env, workdir=workdir)
    try:
        stack.start_server()
        app_log = workdir / "app.log"
        stack.logs.append(app_log)
        stack.app = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "reflex"), "run", "--env", "prod", "--single-port",
             "--frontend-port", str(app_port), "--backend-host", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=app_log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_http(f"{stack.base_url}/ping", 420, stack.app, app_log)
        wait_http(f"{stack.base_url}/login", 60, stack.app, app_log)
        yield stack
    finally:
        stop_process(stack.app)
        stack.stop_server()
        if os.environ.get("AGENTCHAT_E2E_KEEP"):
            print(f"e2e logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class Person:
    name: str
    context: BrowserContext
    page: Page
    dialogs: list[str]

    def composer(self):
        return self.page.get_by_placeholder(PLACEHOLDER)

    def send(self, text: str) -> None:
        """Send and wait until the server echoed it (and the 0.5 s message spacing passed)."""
        box = self.composer()
        box.fill(text)
        box.press("Enter")
        expect(box).to_have_value("")
        # Confirmed by the server's echo (not just shown at once as "Sending…").
        expect(self.page.locator(f'.message:not(.unconfirmed)[data-sender="{self.name}"]',
                                 has_text=text.split("\n")[0]).last).to_be_visible()
        self.page.wait_for_timeout(SEND_SPACING_MS)

    def log(self):
        return self.page.get_by_role("log")

    def mine(self, text: str):
        """My own log entries containing ``text`` (not the agent replies that quote them)."""
        return self.page.locator(f'.message[data-sender="{self.name}"]', has_text=text)

    def message(self, text: str):
        """The log entry whose text contains ``text``."""
        return self.page.locator(".message", has_text=text)


@pytest.fixture(scope="session")
def everyone(stack: Stack, browser: Browser) -> Iterator[Callable[..., Person]]:
    """Factory: a new person signed up in their own browser context (for the whole session)."""
    made: list[Person] = []

    def make(prefix: str = "user", *, color_scheme: str = "light", viewport: dict | None = None,
             sign_up: bool = True, exact: bool = False) -> Person:
        name = prefix if exact else f"{prefix}{next(_names)}"
        context = browser.new_context(base_url=stack.base_url, color_scheme=color_scheme,
                                      viewport=viewport or {"width": 1280, "height": 800})
        page = context.new_page()
        person = Person(name, context, page, [])
        page.on("dialog", lambda dialog: (person.dialogs.append(dialog.message), dialog.dismiss()))
        if sign_up:
            signup(page, name)
        made.append(person)
        return person

    make.admin = make("ada", exact=True)  # type: ignore[attr-defined]  # the first account: an admin
    yield make
    for person in made:
        with contextlib.suppress(Exception):
            person.context.close()


@pytest.fixture
def people(everyone: Callable[..., Person]) -> Iterator[Callable[..., Person]]:
    """Like ``everyone``, but the browsers a test opens close when it ends (fewer pages to render)."""
    mine: list[Person] = []

    def make(*args, **kwargs) -> Person:
        person = everyone(*args, **kwargs)
        mine.append(person)
        return person

    make.admin = everyone.admin  # type: ignore[attr-defined]
    yield make
    for person in mine:
        with contextlib.suppress(Exception):
            person.context.close()


def signup(page: Page, name: str, password: str = PASSWORD) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/", timeout=30_000)
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


def signin(page: Page, name: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture(scope="session")
def admin(everyone: Callable[..., Person]) -> Person:
    """The first account, made before any other: an admin (the tests share one database)."""
    return everyone.admin  # type: ignore[attr-defined]


def post_messages(stack: Stack, user: str, texts: list[str]) -> list[int]:
    """Write messages straight to the companion server (a script, not a browser): a test that
    needs history makes its own instead of depending on what earlier tests wrote."""
    import orjson
    from websockets.sync.client import connect

    from server.auth import issue_token

    token = issue_token(stack.env["AGENTCHAT_JWT_SECRET"], user, "agent")  # scripts are not rate-limited
    ids: list[int] = []
    with connect(stack.server_url, max_size=None) as ws:
        ws.send(orjson.dumps({"type": "auth", "data": {"userId": user, "token": token, "lastMessageId": 0}}).decode())
        for index, text in enumerate(texts):
            ws.send(orjson.dumps({"type": "message", "data": {"id": f"seed-{index}", "text": text}}).decode())
        while len(ids) < len(texts):
            frame = orjson.loads(ws.recv(timeout=30))
            data = frame.get("data") or {}
            # Recovery replays earlier seeds (same client ids, other texts): match the text too.
            if (frame["type"] == "message" and data.get("clientId") == f"seed-{len(ids)}"
                    and data.get("text") == texts[len(ids)]):
                ids.append(data["id"])
            elif frame["type"] == "error" and str(data.get("ref", "")).startswith("seed-"):
                raise RuntimeError(f"seeding refused: {data}")
    return ids


@contextlib.contextmanager
def busy_sender(stack: Stack, user: str, every: float = 0.1) -> Iterator[None]:
    """While the block runs, a script signed in as ``user`` posts every ``every`` s: that person
    is inside the minimum gap between messages nearly all the time, however slowly the page's
    own sends reach the server (a busy machine cannot make a rate-limit test pass by accident).
    On exit the script's connection is closed: the server has read every message it sent."""
    import threading

    import orjson
    from websockets.sync.client import connect

    from server.auth import issue_token

    token = issue_token(stack.env["AGENTCHAT_JWT_SECRET"], user, "developer")
    stop = threading.Event()

    def run() -> None:
        with connect(stack.server_url, max_size=None) as ws:
            ws.send(orjson.dumps({"type": "auth", "data": {"userId": user, "token": token}}).decode())
            count = 0
            while not stop.wait(every):
                count += 1
                ws.send(orjson.dumps({"type": "message", "data": {"id": f"busy-{count}",
                                                                  "text": f"keeping busy {count}"}}).decode())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(60)  # the close handshake is bounded by websockets' own close timeout
        assert not thread.is_alive(), "the busy script did not close its connection"

