#!/usr/bin/env bash
# The terminal path: agentbox's own pty and relay (with its output filter)
# against bubblewrap and srt, which hand the sandbox the caller's terminal.
# Under a pty of bench/tty.py's, as in a terminal emulator:
#   throughput  `cat` of a 100 MB file (base64 text) to the terminal, seconds
#               from start to the last byte (target: agentbox/bwrap <= 1.2)
#   latency     a keystroke echoed back by a program in raw mode in the box,
#               median and 99th percentile over KEYS keys
# in ROUNDS interleaved rounds; prints medians and ratios.
#
# Knobs: AGENTBOX (default build/agentbox), ROUNDS (5), MB (100), KEYS (300),
# TARGET (1.2), NO_SRT=1 to leave srt out (bench/srt.sh finds or installs
# it; without it the output says why).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
AGENTBOX=$(realpath "${AGENTBOX:-$REPO_ROOT/build/agentbox}")
ROUNDS=${ROUNDS:-5}
MB=${MB:-100}
KEYS=${KEYS:-300}
TARGET=${TARGET:-1.2}
NO_SRT=${NO_SRT:-0}

die() { printf 'tty.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }
for tool in bwrap python3 base64; do
        command -v "$tool" >/dev/null || die "$tool not found"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentbox-tty-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ws=$tmp/ws
mkdir -p "$ws" "$tmp/srt-tmp"
chmod 755 "$tmp" "$ws"
head -c $((MB * 1024 * 1024)) < <(base64 /dev/urandom) >"$ws/big.txt"

AGENTBOX_CMD=("$AGENTBOX" run --net off --workspace "$ws" --)
BWRAP_CMD=(bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr)
for d in bin sbin lib lib64; do
        [[ -L /$d ]] && BWRAP_CMD+=(--symlink "$(readlink "/$d")" "/$d")
done
BWRAP_CMD+=(--ro-bind /etc /etc --dev /dev --proc /proc --tmpfs /tmp
            --bind "$ws" "$ws" --chdir "$ws" --)

# shellcheck source=bench/srt.sh
. "$BENCH_DIR/srt.sh"
srt_check() { TMPDIR=$tmp/srt-tmp "${SRT_CMD[@]}" true >/dev/null 2>&1 || echo "srt cannot run true"; }
srt_prepare '[]' srt_check

names=(agentbox bwrap)
if [[ -z $SRT_REASON ]]; then names+=(srt); fi
prefix() {
        case $1 in
        agentbox) printf '%s\0' "${AGENTBOX_CMD[@]}" ;;
        bwrap) printf '%s\0' "${BWRAP_CMD[@]}" ;;
        srt) printf '%s\0' "${SRT_CMD[@]}" ;;
        esac
}

note "agentbox terminal benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), uid $(id -u), kernel $(uname -r)"
note "  agentbox: $AGENTBOX; bwrap: $(bwrap --version)"
if [[ -z $SRT_REASON ]]; then note "  srt: $SRT_DESC"; else note "  srt: NOT MEASURED: $SRT_REASON"; fi
note "  $MB MB through cat, $KEYS keystrokes, $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
        n=${#names[@]}
        for ((i = 0; i < n; i++)); do
                name=${names[(i + r) % n]}
                mapfile -d '' -t p < <(prefix "$name")
                TMPDIR=$tmp/srt-tmp python3 "$BENCH_DIR/tty.py" throughput "$ws/big.txt" -- "${p[@]}" \
                        | sed "s/^/$name throughput /" >>"$tmp/results"
                TMPDIR=$tmp/srt-tmp python3 "$BENCH_DIR/tty.py" latency "$KEYS" -- "${p[@]}" \
                        | sed "s/^/$name latency /" >>"$tmp/results"
        done
        printf 'round %d/%d done\n' "$r" "$ROUNDS"
done

python3 - "$tmp/results" "$TARGET" "$((MB * 1024 * 1024))" <<'PY'
import json, statistics, sys
path, target, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
thr, med, p99 = {}, {}, {}
for line in open(path):
    name, kind, js = line.split(" ", 2)
    d = json.loads(js)
    if kind == "throughput":
        if not d["ok"] or d["bytes"] < size:
            sys.exit(f"{name}: cat did not get everything through: {d}")
        thr.setdefault(name, []).append(d["seconds"])
    else:
        if d["median_us"] is None:
            med.setdefault(name, [])
            p99.setdefault(name, [])
            continue
        med.setdefault(name, []).append(d["median_us"])
        p99.setdefault(name, []).append(d["p99_us"])
def lat_s(n):
    if not med.get(n):
        return "keystroke NOT MEASURED (the program in it did not get the terminal)"
    return (f"keystroke median {statistics.median(med[n]):6.0f} us, "
            f"p99 {statistics.median(p99[n]):6.0f} us")
for n in thr:
    t = statistics.median(thr[n])
    print(f"  {n:9s} cat {t:6.3f} s ({size / t / 1e6:6.1f} MB/s)   {lat_s(n)}")
a = statistics.median(thr["agentbox"])
for n in thr:
    if n == "agentbox":
        continue
    r = a / statistics.median(thr[n])
    ok = "" if n != "bwrap" else (" (target <= %.1f, %s)" % (target, "met" if r <= target else "NOT met"))
    lat = (f"keystroke +{statistics.median(med['agentbox']) - statistics.median(med[n]):.0f} us"
           if med.get(n) else "keystroke not compared")
    print(f"ratio agentbox/{n}: throughput time {r:.3f}{ok}; {lat}")
PY
