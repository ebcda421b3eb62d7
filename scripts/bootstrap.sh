# Sourced by scripts/run and scripts/test: a virtualenv with requirements.txt installed.
# Re-installs only when requirements.txt or the client package's dependencies changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "== creating virtualenv in .venv"
  "$PY" -m venv "$ROOT/.venv"
fi
want="$(cat "$ROOT/requirements.txt" "$ROOT/client/pyproject.toml" | sha256sum | cut -d' ' -f1)"
have="$(cat "$ROOT/.venv/.requirements.sha" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  echo "== installing Python requirements"
  "$ROOT/.venv/bin/python" -m pip install -q --upgrade pip
  (cd "$ROOT" && "$ROOT/.venv/bin/python" -m pip install -q -r requirements.txt)
  echo "$want" > "$ROOT/.venv/.requirements.sha"
fi
export PATH="$ROOT/.venv/bin:$PATH"
