"""``python -m server``: run the companion server, print a development token, or make a
password-reset link for an account (for an operator locked out of every admin account)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from datetime import timedelta

from .settings import SettingsError, get_settings


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="AgentChat companion server: WebSocket chat with agents. "
        "Configuration comes from AGENTCHAT_* environment variables (or a .env file).",
    )
    parser.add_argument("--host", help="interface to bind (AGENTCHAT_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (AGENTCHAT_PORT, default 8081)")
    parser.add_argument("--log-level", default=os.environ.get("AGENTCHAT_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the server (the default)")
    token = sub.add_parser("token", help="print a JWT for a user, signed with the configured secret")
    token.add_argument("name", help="user id (the token's sub)")
    token.add_argument("--role", default="developer", choices=["admin", "developer", "viewer", "agent"])
    token.add_argument("--days", type=float, default=7.0, help="validity in days (default 7)")
    reset = sub.add_parser("reset-link", help="print a one-time password-reset link for an account")
    reset.add_argument("name", help="the account's name")
    reset.add_argument("--app-url", default=os.environ.get("AGENTCHAT_APP_URL", "http://localhost:3000"),
                       help="the app's public URL (AGENTCHAT_APP_URL, default http://localhost:3000)")
    return parser.parse_args(argv)


async def _reset_link(args: argparse.Namespace) -> int:
    from .accounts import AccountError
    from .accounts.factory import accounts_for
    from .auth import load_secret
    from .store.sql import SqlStore

    settings = get_settings()
    store = SqlStore(settings.resolved_database_url)
    await store.start()
    try:
        service = accounts_for(settings, load_secret(settings), store)
        try:
            token, record = await service.operator_reset_link(args.name)
        except AccountError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
    finally:
        await store.close()
    print(f"{args.app_url.rstrip('/')}/reset?token={token}")
    print(f"(works once, until {record.expires_at:%Y-%m-%d %H:%M} UTC)", file=sys.stderr)
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from .runtime import ServerRuntime

    settings = get_settings()
    updates = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if updates:
        settings = settings.model_copy(update=updates)
    runtime = ServerRuntime(settings)
    await runtime.start()
    # What start-up made lives as long as the process: keep it out of every later collection,
    # so that a full collection scans only what traffic made (a ~100 ms pause becomes ~2 ms).
    gc.collect()
    gc.freeze()
    print(f"AgentChat server ready on {runtime.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runtime.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "websockets.server"):  # one line per connection / plugin is noise
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "token":
        from agentchat_client.protocol import is_valid_username

        from .auth import issue_token, load_secret

        if not is_valid_username(args.name):
            print("error: a user name is 1-32 letters, digits, '_' or '-'", file=sys.stderr)
            return 2
        print(issue_token(load_secret(settings), args.name, args.role, timedelta(days=args.days)))
        return 0
    if args.command == "reset-link":
        return asyncio.run(_reset_link(args))
    from .workers import WORKER_INDEX_ENV, check_workers, supervise

    if args.command in (None, "serve") and settings.workers > 1 and WORKER_INDEX_ENV not in os.environ:
        problem = check_workers(settings)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        return supervise(settings, argv if argv is not None else sys.argv[1:])
    try:
        asyncio.run(_serve(args))
    except (OSError, SettingsError) as exc:
        print(f"error: cannot start the server: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
