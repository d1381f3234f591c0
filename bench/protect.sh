#!/usr/bin/env bash
# What the protected workspace paths cost at start-up: `agentbox run --
# true` with the default protections against the same command built from
# an earlier commit (BASE_REV, default the last one before protections),
# side by side in interleaved rounds, in a small workspace (a fresh git
# repository: every default placeholder is made) and in a 20,000-file
# repository ("start20k").  Also with every default unprotected, and
# bubblewrap for reference.  Prints ratios of medians; target 1.1.
#
# Knobs: AGENTBOX (default build/agentbox), AGENTBOX_BASE (a binary to
# compare with; default: build BASE_REV in a temporary worktree), RUNS
# (per command per round, default 30), ROUNDS (default 10), TARGET (1.1),
# ONE (rounds of the one-at-a-time comparison at the end, default 200).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
AGENTBOX=$(realpath "${AGENTBOX:-$REPO_ROOT/build/agentbox}")
BASE_REV=${BASE_REV:-aa9faeb}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-10}
TARGET=${TARGET:-1.1}

die() { printf 'protect.sh: %s\n' "$*" >&2; exit 1; }
for tool in hyperfine bwrap python3 git meson; do
        command -v "$tool" >/dev/null || die "$tool not found"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentbox-protect-bench.XXXXXX")
cleanup() {
        [ -d "$tmp/base" ] && git -C "$REPO_ROOT" worktree remove --force "$tmp/base" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${AGENTBOX_BASE:-}" ]; then
        echo "building $BASE_REV for comparison ..."
        git -C "$REPO_ROOT" worktree add -q --detach "$tmp/base" "$BASE_REV"
        (cd "$tmp/base" && meson setup build >/dev/null && meson compile -C build >/dev/null)
        AGENTBOX_BASE=$tmp/base/build/agentbox
fi

G="git -c user.email=b@example.invalid -c user.name=b -c init.defaultBranch=main"
small=$tmp/small
big=$tmp/start20k
mkdir -p "$small" "$big"
$G -C "$small" init -q
$G -C "$big" init -q
python3 - "$big" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(200):
    os.makedirs(f"{root}/src/d{d}", exist_ok=True)
    for f in range(100):
        with open(f"{root}/src/d{d}/f{f}.txt", "w") as fh:
            fh.write("x\n")
PY
$G -C "$big" add -A
$G -C "$big" commit -qm files

unprotect=()
for p in $("$AGENTBOX" run --help | grep -q unprotect && echo \
        .git .gitmodules .claude .mcp.json .codex .gemini .cursor .vscode .idea \
        .zed .devcontainer .devcontainer.json .envrc .husky \
        .pre-commit-config.yaml mise.toml .mise.toml .opencode opencode.json agentbox.yaml .hg .jj); do
        unprotect+=(--unprotect "$p")
done

bw() {
        local ws=$1
        printf 'bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr'
        for d in bin sbin lib lib64; do
                [ -L "/$d" ] && printf ' --symlink %s /%s' "$(readlink "/$d")" "$d"
        done
        printf ' --ro-bind /etc /etc --dev /dev --proc /proc --tmpfs /tmp --bind %s %s --chdir %s true' "$ws" "$ws" "$ws"
}

names=() cmds=()
for w in small start20k; do
        ws=$tmp/$w
        names+=("base-$w" "agentbox-$w" "unprotected-$w" "bwrap-$w")
        cmds+=("$AGENTBOX_BASE run --net off --workspace $ws -- true"
               "$AGENTBOX run --net off --workspace $ws -- true"
               "$AGENTBOX run --net off ${unprotect[*]} --workspace $ws -- true"
               "$(bw "$ws")")
done
for c in "${cmds[@]}"; do $c >/dev/null || die "cannot run: $c"; done

echo "agentbox protected-paths start-up, $(date -u '+%Y-%m-%d %H:%M UTC'), uid $(id -u), kernel $(uname -r)"
echo "  agentbox: $AGENTBOX; base: $AGENTBOX_BASE ($BASE_REV)"
for ((r = 1; r <= ROUNDS; r++)); do
        args=()
        n=${#names[@]}
        for ((i = 0; i < n; i++)); do
                k=$(( (i + r) % n ))
                args+=(-n "${names[k]}" "${cmds[k]}")
        done
        hyperfine -N --style none --warmup 5 --runs "$RUNS" \
                --export-json "$tmp/r$r.json" "${args[@]}" >/dev/null
        printf 'round %d/%d done\n' "$r" "$ROUNDS"
done

python3 - "$tmp" "$ROUNDS" "$TARGET" <<'PY'
import json, statistics, sys
tmp, rounds, target = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
pooled = {}
for r in range(1, rounds + 1):
    for res in json.load(open(f"{tmp}/r{r}.json"))["results"]:
        pooled.setdefault(res["command"], []).extend(res["times"])
med = {n: statistics.median(t) * 1000 for n, t in pooled.items()}
for n in sorted(med):
    print(f"  {n:24s} median {med[n]:6.2f} ms  ({len(pooled[n])} runs)")
for w in ("small", "start20k"):
    r = med[f"agentbox-{w}"] / med[f"base-{w}"]
    u = med[f"unprotected-{w}"] / med[f"base-{w}"]
    b = med[f"agentbox-{w}"] / med[f"bwrap-{w}"]
    ok = "met" if r <= target else "NOT met"
    print(f"ratio agentbox/base ({w}): {r:.3f} (target <= {target}, {ok}); "
          f"unprotected/base {u:.3f}; agentbox/bwrap {b:.2f}")
PY

# The same, one run of each command in turn (interleave.py): as agents are
# started, with nothing of the previous run's teardown (its network
# namespace, RCU callbacks) still on the CPUs.  Back-to-back blocks charge
# each run with its predecessor's, and the base, whose cgroup moves wait
# for an RCU grace period unless one just passed, is at its best there.
ONE=${ONE:-200}
for w in small start20k; do
        ws=$tmp/$w
        echo "one at a time ($w, $ONE rounds):"
        python3 "$BENCH_DIR/interleave.py" "$ONE" \
                $AGENTBOX_BASE run --net off --workspace "$ws" -- true ";;" \
                $AGENTBOX run --net off --workspace "$ws" -- true ";;" \
                $AGENTBOX run --net off "${unprotect[@]}" --workspace "$ws" -- true |
                sed 's/^/  /'
done
