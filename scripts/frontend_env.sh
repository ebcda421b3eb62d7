# shellcheck shell=bash
# Source me: makes Bun (for Reflex's frontend build) and Debian's Chromium (for the
# browser tests) available, installing them once.  Reflex's own Bun download needs
# github.com, which this environment cannot reach, so Bun comes from npm instead.
#
#   source scripts/frontend_env.sh
#
# Idempotent and quiet when everything is already there.

_agentchat_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_agentchat_bun_dir="$_agentchat_root/.tools/bun"
_agentchat_bun_version="${AGENTCHAT_BUN_VERSION:-1.4.4}"

if [ ! -x "$_agentchat_bun_dir/node_modules/.bin/bun" ]; then
    echo "frontend_env: installing bun@$_agentchat_bun_version into $_agentchat_bun_dir" >&2
    mkdir -p "$_agentchat_bun_dir"
    npm install --silent --no-audit --no-fund --prefix "$_agentchat_bun_dir" "bun@$_agentchat_bun_version" >&2 \
        || echo "frontend_env: could not install bun (is npm reachable?)" >&2
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "frontend_env: installing Debian's chromium" >&2
    _agentchat_sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && _agentchat_sudo="sudo"
    if ! $_agentchat_sudo apt-get install -y -q chromium >/dev/null 2>&1; then
        $_agentchat_sudo apt-get update -q >/dev/null 2>&1
        $_agentchat_sudo apt-get install -y -q chromium >/dev/null 2>&1 \
            || echo "frontend_env: could not install chromium" >&2
    fi
    unset _agentchat_sudo
fi

case ":$PATH:" in
    *":$_agentchat_bun_dir/node_modules/.bin:"*) ;;
    *) export PATH="$_agentchat_bun_dir/node_modules/.bin:$PATH" ;;
esac
export REFLEX_USE_SYSTEM_BUN=1

unset _agentchat_root _agentchat_bun_dir _agentchat_bun_version
