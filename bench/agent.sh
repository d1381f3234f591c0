#!/usr/bin/env bash
# What `agentbox claude` costs at start: `agentbox claude --version`
# against `claude --version` run bare plus agentbox's own cost (`run --
# true` less a bare `true`), one run of each in turn, medians.  Target: the
# box's within 1.2x of that sum.  Claude Code comes from npm (the registry
# npm is configured for) into a temporary prefix unless CLAUDE names one.
# Knobs: BUILD (default build), N (runs of each, default 100), CLAUDE.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
BUILD=${BUILD:-$REPO_ROOT/build}
N=${N:-100}
AB=$BUILD/tests/agentbox-test
[ -x "$AB" ] || { echo "agent.sh: build first (no $AB)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentbox-agent-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
if [ -z "${CLAUDE:-}" ]; then
        gc=$(npm config get globalconfig)
        NPM_CONFIG_GLOBALCONFIG="$gc" npm install -g --prefix "$tmp/cc" \
                --no-audit --no-fund --loglevel=error @anthropic-ai/claude-code >/dev/null
        CLAUDE=$tmp/cc/bin/claude
fi
mkdir -p "$tmp/ws" "$tmp/state"
export AGENTBOX_TEST_STATE="$tmp/state" AGENTBOX_TEST_MANAGED="$tmp/none.yaml" \
        AGENTBOX_TEST_USER_CONFIG="$tmp/none.yaml" PATH="$(dirname "$CLAUDE"):$PATH"
cd "$tmp/ws"
"$AB" claude --version >/dev/null
python3 - "$N" "$CLAUDE" "$AB" <<'PY'
import os, sys, time, statistics as st
n, claude, ab = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmds = {"true": ["/bin/true"], "claude": [claude, "--version"],
        "run-true": [ab, "run", "--net", "off", "--", "/bin/true"],
        "agentbox-claude": [ab, "claude", "--version"]}
dn = os.open("/dev/null", os.O_RDWR)
fa = [(os.POSIX_SPAWN_DUP2, dn, 0), (os.POSIX_SPAWN_DUP2, dn, 1), (os.POSIX_SPAWN_DUP2, dn, 2)]
ts = {k: [] for k in cmds}
for i in range(n + 5):
    order = list(cmds) if i % 2 else list(reversed(cmds))
    for k in order:
        t0 = time.perf_counter()
        pid = os.posix_spawn(cmds[k][0], cmds[k], dict(os.environ), file_actions=fa)
        os.waitpid(pid, 0)
        if i >= 5:
            ts[k].append((time.perf_counter() - t0) * 1e3)
m = {k: st.median(v) for k, v in ts.items()}
for k, v in m.items():
    print(f"{k:16s} {v:8.2f} ms")
base = m["claude"] + m["run-true"] - m["true"]
r = m["agentbox-claude"] / base
print(f"agentbox claude --version / (claude --version + agentbox's own): {r:.2f} "
      f"(target <= 1.2, {'met' if r <= 1.2 else 'NOT met'})")
PY
