#!/usr/bin/env bash
# What the policy layers cost: how long a typical agentbox.yaml takes to
# parse, and the start-up of `run --net off -- true` under a managed, a
# user and a project file against the same run with no file at all (flags
# only), one run of each in turn (bench/interleave.py).  Both run
# agentbox-test, whose managed and user files can be put in a temporary
# directory (the code is agentbox's own).  Target: within 1.1x.
# Knobs: BUILD (default build), N (runs of each, default 400).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
BUILD=${BUILD:-$REPO_ROOT/build}
N=${N:-400}
AB=$BUILD/tests/agentbox-test
[ -x "$AB" ] || { echo "policy.sh: build first (no $AB)" >&2; exit 1; }

echo "== parse: tests/data/policy/full-project.yaml (every project key)"
"$BUILD/tests/bench-policy-parse" "$REPO_ROOT/tests/data/policy/full-project.yaml" 20000

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentbox-policy-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/etc" "$tmp/ws" "$tmp/flags" "$tmp/none" "$tmp/state"
chmod 755 "$tmp/etc"
git -C "$tmp/ws" init -q
git -C "$tmp/flags" init -q
cat >"$tmp/etc/managed.yaml" <<'Y'
version: 1
network:
  deny: [paste.example, "*.pastebin.example"]
resources: {memory: 8G, pids: 4096}
filesystem:
  protect: [.corp/hooks]
Y
cat >"$tmp/config.yaml" <<'Y'
version: 1
env:
  set: {EDITOR: vi}
resources: {pids: 2048}
Y
cat >"$tmp/ws/agentbox.yaml" <<'Y'
version: 1
network:
  mode: "off"
resources: {memory: 4G}
filesystem:
  protect: [keys]
env:
  set: {CI: "1"}
Y
# the same policy as flags: the deny list is inert with the network off
echo "== start-up: three layers against the same policy as flags (N=$N, interleaved)"
python3 "$BENCH_DIR/interleave.py" "$N" \
        AGENTBOX_TEST_STATE="$tmp/state" AGENTBOX_TEST_MANAGED="$tmp/none/m.yaml" \
        AGENTBOX_TEST_USER_CONFIG="$tmp/none/c.yaml" \
        "$AB" run --net off --memory 4G --pids 2048 --protect keys \
        --protect .corp/hooks -e EDITOR=vi -e CI=1 -w "$tmp/flags" -- /bin/true ";;" \
        AGENTBOX_TEST_STATE="$tmp/state" AGENTBOX_TEST_MANAGED="$tmp/etc/managed.yaml" \
        AGENTBOX_TEST_USER_CONFIG="$tmp/config.yaml" \
        "$AB" run -w "$tmp/ws" -- /bin/true
