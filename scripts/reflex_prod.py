"""``reflex run`` for ``./scripts/run``, without rebuilding a frontend that has not changed.

Reflex's ``run --env prod`` compiles the app and builds the frontend on every start — about a
minute on a 2-core machine — even when nothing it is built from changed since the last start.
This launcher fingerprints those inputs (the app package, ``assets/``, ``rxconfig.py``,
``requirements.txt``, the installed Reflex, the command's arguments and the ``REFLEX_*`` /
``AGENTCHAT_*`` / ``API_URL`` / ``DEPLOY_URL`` environment) and, when the fingerprint and the
build on disk are the ones the last build stamped, starts the backend on the existing build.
Anything else — a changed file, other ports, a build made by another command, or
``AGENTCHAT_REBUILD=1`` — builds as Reflex always does and stamps the result.

    python scripts/reflex_prod.py --env prod --single-port --frontend-port 3000 ...
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / ".web"
STAMP = WEB / "agentchat-build.sha256"
# Files a build writes last: rewritten by any other build, so their times tell whose build it is.
BUILD_OUTPUTS = (WEB / "build" / "client" / "index.html", WEB / "env.json")
SOURCES = ("agentchat_app", "assets", "rxconfig.py", "requirements.txt")
# Written by Python or by Reflex itself (it copies `assets/` into the build and writes its own
# files into `assets/external`), never by a person.
IGNORED_DIRS = {"__pycache__", ".states"}
GENERATED = ("assets", "external")
ENV_PREFIXES = ("REFLEX_", "AGENTCHAT_", "API_URL", "DEPLOY_URL")


def source_files(root: Path, sources: Iterable[str] = SOURCES) -> list[Path]:
    """Every file the frontend is built from, in a stable order."""
    found: list[Path] = []
    for name in sources:
        path = root / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for file in path.rglob("*"):
                parts = file.relative_to(root).parts
                if file.is_file() and not IGNORED_DIRS.intersection(parts) and parts[:2] != GENERATED:
                    found.append(file)
    return sorted(found)


def fingerprint(root: Path, args: list[str], environ: Mapping[str, str], reflex_version: str) -> str:
    """A digest of everything that decides what the build contains."""
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(b"reflex=" + reflex_version.encode() + b"\0")
    digest.update(b"args=" + "\0".join(args).encode() + b"\0")
    for key in sorted(k for k in environ if k.startswith(ENV_PREFIXES)):
        digest.update(f"{key}={environ[key]}\0".encode())
    return digest.hexdigest()


def stamp_text(inputs: str, outputs: Iterable[Path] = BUILD_OUTPUTS) -> str | None:
    """The inputs' fingerprint tied to the build on disk, or None when there is no build."""
    times = []
    for path in outputs:
        if not path.is_file():
            return None
        times.append(str(path.stat().st_mtime_ns))
    return f"{inputs} {' '.join(times)}\n"


def build_is_current(inputs: str, stamp: Path = STAMP, outputs: Iterable[Path] = BUILD_OUTPUTS) -> bool:
    """True when the build on disk was made, by this launcher, from these very inputs."""
    expected = stamp_text(inputs, outputs)
    return expected is not None and stamp.is_file() and stamp.read_text() == expected


def main(args: list[str]) -> None:
    """Start ``reflex run`` with ``args``, skipping the build when it is current."""
    inputs = fingerprint(ROOT, args, os.environ, metadata.version("reflex"))
    current = build_is_current(inputs) and os.environ.get("AGENTCHAT_REBUILD", "") in ("", "0")

    from reflex import reflex as cli
    from reflex.utils import build

    if current:
        print("The frontend is unchanged since its last build: serving that build "
              "(AGENTCHAT_REBUILD=1 ./scripts/run rebuilds it).", flush=True)
        cli._compile_app = lambda **_: None  # type: ignore[assignment]
        build.setup_frontend_prod = lambda root: None
    else:
        STAMP.unlink(missing_ok=True)
        build_frontend = build.setup_frontend_prod

        def build_and_stamp(root: Path) -> None:
            build_frontend(root)
            text = stamp_text(inputs)
            if text is not None:
                STAMP.write_text(text)

        build.setup_frontend_prod = build_and_stamp
    sys.argv = ["reflex", "run", *args]
    cli.cli()


if __name__ == "__main__":
    main(sys.argv[1:])
