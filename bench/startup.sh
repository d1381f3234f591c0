#!/usr/bin/env bash
# bench/startup.sh — start-up overhead of `agentbox run -- true`, measured in
# one run side by side with
#   bare      `true` with no sandbox (the floor: hyperfine's own fork+exec),
#   bwrap     bubblewrap configured like agentbox's box,
#   srt       Anthropic's sandbox-runtime with its built-in default config.
# It prints median times, overhead over bare `true`, and the ratios
# agentbox/bwrap and agentbox/srt. Ratios are what matter: the machine is
# shared and noisy, so the fast commands run in interleaved rounds and the
# medians are taken over all rounds' samples.
#
# Usage: bench/startup.sh            (as root or as an ordinary user)
# Environment:
#   AGENTBOX   the agentbox binary (default: build/agentbox in the repo root)
#   RUNS       runs of each fast command over all rounds (default 200)
#   SRT_RUNS   runs of srt over all rounds (default 60; it takes ~0.5 s a run)
#   ROUNDS     interleaved rounds (default 10)
#   WARMUP     warm-up runs per fast command per round (default 5)
#   SRT_WARMUP warm-up runs of srt per round (default 1)
#   TARGET     the agentbox/bwrap ratio aimed for (default 1.2; only printed)
#   NO_SRT=1   leave srt out (the output says so)
#   NODE       a node >= 22.12 to run srt with (default: system node if new
#              enough, else bench/node_modules/.bin/node from setup.sh)
#   BENCH_OUT  a directory to copy hyperfine's JSON into (default: not kept)
# When srt is not installed in bench/node_modules this calls bench/setup.sh,
# the only step that needs the network.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
AGENTBOX=${AGENTBOX:-$REPO_ROOT/build/agentbox}
RUNS=${RUNS:-200}
SRT_RUNS=${SRT_RUNS:-60}
ROUNDS=${ROUNDS:-10}
WARMUP=${WARMUP:-5}
SRT_WARMUP=${SRT_WARMUP:-1}
TARGET=${TARGET:-1.2}
NO_SRT=${NO_SRT:-0}

die() { printf 'startup.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

for tool in hyperfine bwrap python3; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian packages: hyperfine, bubblewrap, python3; bench/setup.sh installs the first two as root)"
done
[[ -x $AGENTBOX ]] || die "agentbox binary not found at $AGENTBOX (build it: ninja -C build, or set AGENTBOX)"
AGENTBOX=$(realpath "$AGENTBOX")

per_round() { echo $(( ($1 + ROUNDS - 1) / ROUNDS )); }
FAST_PER_ROUND=$(per_round "$RUNS")
SRT_PER_ROUND=$(per_round "$SRT_RUNS")
((FAST_PER_ROUND >= 2 && SRT_PER_ROUND >= 2)) || die "RUNS and SRT_RUNS must give at least 2 runs per round"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentbox-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ws=$tmp/workspace          # the workspace every sandbox shares read-write
mkdir -p "$ws" "$tmp/srt-tmp"
cd "$ws"

# hyperfine -N splits a command line like a POSIX shell would: quote each word.
q() {
    if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf '%s' "$1"; return; fi
    local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"
}
cmdline() { local out="" a; for a in "$@"; do out+="$(q "$a") "; done; printf '%s' "${out% }"; }

# --- the commands ------------------------------------------------------------
BARE=(true)
AGENTBOX_CMD=("$AGENTBOX" run --workspace "$ws" --)

# bubblewrap set up like agentbox's box: every namespace, a fresh root with
# read-only /usr, /etc, /opt and the host's usr-merge symlinks, a minimal /dev,
# a fresh /proc, tmpfs /tmp /var/tmp /home/agent, the workspace read-write,
# a clean environment, uid/gid 1000, no capabilities. (No seccomp filter or
# Landlock: bwrap has no built-in policy for either.)
BWRAP_CMD=(bwrap --unshare-all --unshare-user --unshare-cgroup
           --die-with-parent --new-session
           --ro-bind /usr /usr)
for d in bin sbin lib lib64 lib32; do
    if [[ -L /$d ]]; then
        BWRAP_CMD+=(--symlink "$(readlink "/$d")" "/$d")
    elif [[ -d /$d ]]; then
        BWRAP_CMD+=(--ro-bind "/$d" "/$d")
    fi
done
BWRAP_CMD+=(--ro-bind /etc /etc)
[[ -d /opt ]] && BWRAP_CMD+=(--ro-bind /opt /opt)
BWRAP_CMD+=(--dev /dev --proc /proc
            --tmpfs /tmp --tmpfs /var/tmp --tmpfs /home/agent
            --bind "$ws" "$ws" --chdir "$ws"
            --clearenv --setenv HOME /home/agent --setenv PATH /usr/local/bin:/usr/bin:/bin
            --uid 1000 --gid 1000 --cap-drop ALL --)

# A cheap check that a command really ran in a box: inside, /proc/net/dev
# lists no interface but lo. (True for all three sandboxes, false on the host.)
NETCHECK=(awk 'NR > 2 && $1 != "lo:" { n++ } END { exit n > 0 }' /proc/net/dev)

check_box() {  # name, command... : runs the command + NETCHECK, says what failed
    local name=$1; shift
    local err
    if ! err=$("$@" true 2>&1 >/dev/null); then
        printf '%s cannot run `true`: %s' "$name" "${err:-exit status non-zero}"
        return 1
    fi
    if ! err=$("$@" "${NETCHECK[@]}" 2>&1 >/dev/null); then
        printf '%s ran, but its box shows network interfaces other than lo (not isolated?) %s' "$name" "$err"
        return 1
    fi
}

# --- srt -----------------------------------------------------------------------
# srt 0.0.78 left its proxy's unix socket (srt-mux-PID-0.sock) in $TMPDIR
# after every run (0.0.83 does not): whatever it leaves goes to our temp dir,
# removed at exit.
# shellcheck source=bench/srt.sh
. "$BENCH_DIR/srt.sh"
srt_check() { TMPDIR=$tmp/srt-tmp check_box srt "${SRT_CMD[@]}"; }
srt_prepare '[]' srt_check   # no network: its built-in default

# agentbox and bwrap must work: without them there is nothing to compare.
if ! reason=$(check_box agentbox "${AGENTBOX_CMD[@]}"); then die "$reason"; fi
if ! reason=$(check_box bwrap "${BWRAP_CMD[@]}"); then die "$reason"; fi

# --- measure -------------------------------------------------------------------
note "agentbox start-up benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), uid $(id -u), $(nproc) cpus, kernel $(uname -r)"
note "  agentbox: $AGENTBOX ($("$AGENTBOX" version 2>/dev/null | head -n1 || echo '?'))"
note "  bwrap:    $(bwrap --version)"
if [[ -z $SRT_REASON ]]; then note "  srt:      $SRT_DESC"; else note "  srt:      NOT MEASURED: $SRT_REASON"; fi
note "  $(hyperfine --version): $((FAST_PER_ROUND * ROUNDS)) runs each of bare/agentbox/bwrap, $([[ -z $SRT_REASON ]] && echo "$((SRT_PER_ROUND * ROUNDS)) of srt, " || true)in $ROUNDS interleaved rounds"
note "  bwrap command: $(cmdline "${BWRAP_CMD[@]}") true"
note ""

names=(bare agentbox bwrap)
cmds=("$(cmdline "${BARE[@]}")" "$(cmdline "${AGENTBOX_CMD[@]}" true)" "$(cmdline "${BWRAP_CMD[@]}" true)")
start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
    printf 'round %d/%d: bare, agentbox, bwrap x %d' "$r" "$ROUNDS" "$FAST_PER_ROUND"
    args=()
    for ((i = 0; i < 3; i++)); do          # rotate the order from round to round
        k=$(( (i + r - 1) % 3 ))
        args+=(-n "${names[k]}" "${cmds[k]}")
    done
    hyperfine -N --style none --warmup "$WARMUP" --runs "$FAST_PER_ROUND" \
        --export-json "$tmp/fast-$r.json" "${args[@]}" >/dev/null 2>"$tmp/hyperfine-fast-$r.err" \
        || { echo; cat "$tmp/hyperfine-fast-$r.err" >&2; die "hyperfine failed in round $r"; }
    if [[ -z $SRT_REASON ]]; then
        printf ', srt x %d' "$SRT_PER_ROUND"
        if ! TMPDIR=$tmp/srt-tmp hyperfine -N --style none --warmup "$SRT_WARMUP" --runs "$SRT_PER_ROUND" \
                --export-json "$tmp/srt-$r.json" -n srt "$(cmdline "${SRT_CMD[@]}" true)" \
                >/dev/null 2>"$tmp/hyperfine-srt-$r.err"; then
            SRT_REASON="srt failed during round $r: $(grep -v '^ *$' "$tmp/hyperfine-srt-$r.err" | tail -n 3 | tr '\n' ' ')"
            rm -f "$tmp"/srt-*.json
        fi
    fi
    printf ' (%ds)\n' $((SECONDS - start))
done
note ""

if [[ -n ${BENCH_OUT:-} ]]; then
    mkdir -p "$BENCH_OUT"
    cp "$tmp"/*.json "$BENCH_OUT"/
    note "hyperfine JSON copied to $BENCH_OUT"
fi

# --- report --------------------------------------------------------------------
python3 - "$tmp" "$ROUNDS" "$TARGET" "$SRT_REASON" <<'PY'
import json, os, statistics, sys

tmp, rounds, target, srt_reason = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
pooled = {}                     # name -> all samples (seconds)
cpu = {}                        # name -> [(runs, mean user+sys seconds)]
per_round = []                  # [{name: median}]
for r in range(1, rounds + 1):
    meds = {}
    for kind in ("fast", "srt"):
        path = os.path.join(tmp, f"{kind}-{r}.json")
        if not os.path.exists(path):
            continue
        for res in json.load(open(path))["results"]:
            pooled.setdefault(res["command"], []).extend(res["times"])
            cpu.setdefault(res["command"], []).append((len(res["times"]), res["user"] + res["system"]))
            meds[res["command"]] = statistics.median(res["times"])
    per_round.append(meds)

ms = lambda s: s * 1000.0
med = {n: statistics.median(t) for n, t in pooled.items()}
cpu_mean = {n: sum(k * c for k, c in v) / sum(k for k, _ in v) for n, v in cpu.items()}
bare = med["bare"]

def fmt_ratio(a, b):
    return f"{a / b:.2f}" if b > 0 else "n/a"

print("per round (medians, ms):")
for i, m in enumerate(per_round, 1):
    cells = "  ".join(f"{n} {ms(m[n]):7.2f}" for n in ("bare", "agentbox", "bwrap", "srt") if n in m)
    extra = f"  agentbox/bwrap {m['agentbox'] / m['bwrap']:.2f}"
    if "srt" in m:
        extra += f"  agentbox/srt {m['agentbox'] / m['srt']:.3f}"
    print(f"  {i:2d}: {cells}{extra}")
print()
print(f"{'command':<10} {'runs':>5} {'median':>9} {'mean':>9} {'min':>9} {'p90':>9} {'cpu':>9}   overhead over bare `true` (median)")
for n in ("bare", "agentbox", "bwrap", "srt"):
    if n not in pooled:
        continue
    t = sorted(pooled[n])
    p90 = t[min(len(t) - 1, int(0.9 * len(t)))]
    over = "" if n == "bare" else f"{ms(med[n] - bare):8.2f} ms"
    print(f"{n:<10} {len(t):>5} {ms(med[n]):6.2f} ms {ms(statistics.mean(t)):6.2f} ms "
          f"{ms(t[0]):6.2f} ms {ms(p90):6.2f} ms {ms(cpu_mean[n]):6.2f} ms   {over}")
print("  (cpu: mean user+sys time of the whole process tree, as hyperfine measures it)")
print()

ab = med["agentbox"] / med["bwrap"]
ab_over = (med["agentbox"] - bare) / (med["bwrap"] - bare) if med["bwrap"] > bare else float("nan")
rounds_ab = [m["agentbox"] / m["bwrap"] for m in per_round]
if "srt" in med:
    print(f"ratio agentbox/srt (median): {med['agentbox'] / med['srt']:.3f}"
          f"  (overhead only: {(med['agentbox'] - bare) / (med['srt'] - bare):.3f};"
          f" srt takes {med['srt'] / med['agentbox']:.1f}x as long as agentbox)")
else:
    print(f"ratio agentbox/srt (median): n/a -- srt was NOT measured: {srt_reason}")
print(f"overhead ratio agentbox/bwrap (median - bare): {ab_over:.2f};"
      f" per-round ratios {min(rounds_ab):.2f}..{max(rounds_ab):.2f};"
      f" cpu time ratio {cpu_mean['agentbox'] / cpu_mean['bwrap']:.2f}")
verdict = "met" if ab <= target else "NOT met"
print(f"ratio agentbox/bwrap (median): {ab:.2f} (target <= {target:g}, {verdict})")
PY
