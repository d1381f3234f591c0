#!/usr/bin/env bash
# bench/net.sh — what agentbox's network path costs, measured in one run side
# by side with
#   none                   curl on the host straight to the server (no sandbox),
#   agentbox-proxy         curl in `agentbox run` through its HTTP proxy
#                          (HTTP_PROXY=http://127.0.0.1:3128 in the box),
#   agentbox-transparent   curl --noproxy '*' in `agentbox run`: the box's DNS
#                          stub gives NAME a 127.100.x.y address, whose
#                          connection a transparent listener hands to agentbox,
#   srt                    curl in Anthropic's sandbox-runtime, through its
#                          proxy (socat in the box -> unix socket -> node).
# The server is a small python3 server (HTTP/1.1, Content-Length, sendfile)
# bound to 127.0.0.1 on a free port; all traffic stays on loopback. It reports
#   latency     median time_total of a ~1 KiB fetch, a fresh connection each
#               (one process per sandbox runs a loop of separate curls, so the
#               sandbox's start-up is not counted),
#   throughput  median speed of a 100 MB download,
#   memory      peak resident memory (VmHWM) of the agentbox process itself
#               (the supervisor, which carries the traffic) sampled while the
#               downloads run; for srt, that of its node process,
# and the ratios agentbox/none and agentbox/srt. Ratios are what matter: the
# machine is shared and noisy, so the setups run in interleaved rounds and the
# medians are taken over all rounds' samples. It exits 0 either way (1 only if
# it cannot set up: no name for the loopback server, no agentbox, ...).
#
# Usage: bench/net.sh            (as root or as an ordinary user)
# Environment:
#   AGENTBOX    the agentbox binary (default: build/agentbox in the repo root)
#   BENCH_HOST  the name the boxes fetch from (default: $(hostname)); the host
#               must resolve it to 127.0.0.0/8 through /etc/hosts, and it must
#               not be `localhost` (the box maps localhost to its own loopback)
#   ROUNDS      interleaved rounds (default 5)
#   FETCHES     small fetches per setup over all rounds (default 300)
#   DOWNLOADS   100 MB downloads per setup over all rounds (default 10)
#   SIZE_MB     size of the big file (default 100)
#   NO_SRT=1    leave srt out (the output says so)
#   NODE        a node >= 22.12 to run srt with (default: system node if new
#               enough, else bench/node_modules/.bin/node from setup.sh)
#   BENCH_OUT   a directory to copy the raw samples into (default: not kept)
# When srt is not installed in bench/node_modules this calls bench/setup.sh,
# the only step that needs the network.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
AGENTBOX=${AGENTBOX:-$REPO_ROOT/build/agentbox}
ROUNDS=${ROUNDS:-5}
FETCHES=${FETCHES:-300}
DOWNLOADS=${DOWNLOADS:-10}
SIZE_MB=${SIZE_MB:-100}
NO_SRT=${NO_SRT:-0}
TARGET_LATENCY=1.2      # agentbox/none, at most
TARGET_THROUGHPUT=0.8   # agentbox/none, at least
TARGET_MEM_MIB=8        # supervisor VmHWM, below

die() { printf 'net.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

for tool in curl python3 getent; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian packages: curl, python3, libc-bin)"
done
[[ -x $AGENTBOX ]] || die "agentbox binary not found at $AGENTBOX (build it: meson compile -C build, or set AGENTBOX)"
AGENTBOX=$(realpath "$AGENTBOX")

per_round() { echo $(( ($1 + ROUNDS - 1) / ROUNDS )); }
FETCH_PER_ROUND=$(per_round "$FETCHES")
DL_PER_ROUND=$(per_round "$DOWNLOADS")
((ROUNDS >= 1 && FETCH_PER_ROUND >= 2 && DL_PER_ROUND >= 1)) || die "need ROUNDS >= 1, FETCHES >= 2 per round, DOWNLOADS >= 1 per round"

# --- the name the boxes fetch from ------------------------------------------
# agentbox's supervisor resolves a name as the host does; the name must land on
# the loopback server, through /etc/hosts (no DNS traffic off the machine).
NAME=${BENCH_HOST:-$(hostname)}
[[ $NAME != localhost && $NAME != localhost.* && $NAME != *.localhost ]] \
    || die "the name to fetch from is '$NAME': inside agentbox's box localhost is the box's own loopback, so the benchmark needs another name the host maps to 127.0.0.1 in /etc/hosts (set BENCH_HOST)"
addr=$(getent -s files hosts "$NAME" | awk '{ print $1; exit }') || true
[[ $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] \
    || die "'$NAME' (\$(hostname)) does not resolve to a 127.0.0.0/8 address through /etc/hosts (getent -s files hosts $NAME: '${addr:-nothing}'); add a line '127.0.0.1 $NAME' to /etc/hosts, or set BENCH_HOST to a name that has one"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentbox-netbench.XXXXXX")
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
ws=$tmp/workspace          # the workspace every sandbox gets (holds fetch.sh)
www=$tmp/www               # what the server serves
mkdir -p "$ws" "$www" "$tmp/srt-tmp" "$tmp/out"
cd "$ws"

# --- the server ------------------------------------------------------------------
# python3's http.server is too slow for a 100 MB comparison (it would be the
# bottleneck): this one answers GET with Content-Length and sends the body with
# sendfile(2), one thread per connection, keep-alive unless asked to close.
cat >"$tmp/server.py" <<'PY'
import os, socket, sys, threading
root, portfile = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(512)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)

def reply(conn, status, body, keep):
    conn.sendall(b"HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n%s"
                 % (status, len(body), b"keep-alive" if keep else b"close", body))

def handle(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rf = conn.makefile("rb")
    try:
        while True:
            line = rf.readline(8192)
            if not line:
                return
            parts = line.split()
            keep = len(parts) == 3 and parts[2] == b"HTTP/1.1"
            while True:
                h = rf.readline(8192)
                if not h or h in (b"\r\n", b"\n"):
                    break
                k, _, v = h.partition(b":")
                if k.strip().lower() == b"connection":
                    v = v.strip().lower()
                    keep = v == b"keep-alive" or (keep and v != b"close")
            if len(parts) != 3 or parts[0] not in (b"GET", b"HEAD"):
                reply(conn, b"400 Bad Request", b"bad request\n", False)
                return
            target = parts[1]
            if target.startswith(b"http://"):          # absolute form
                target = b"/" + (target.split(b"/", 3)[3] if target.count(b"/") >= 3 else b"")
            name = os.path.basename(target.split(b"?")[0].decode("latin-1"))
            path = os.path.join(root, name)
            if not name or not os.path.isfile(path):
                reply(conn, b"404 Not Found", b"not found\n", keep)
                if keep:
                    continue
                return
            size = os.path.getsize(path)
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Length: %d\r\nConnection: %s\r\n\r\n"
                    % (size, b"keep-alive" if keep else b"close"))
            with open(path, "rb") as f:
                if parts[0] == b"HEAD":
                    conn.sendall(head)
                elif size <= 65536:
                    conn.sendall(head + f.read())     # one write: no Nagle stall
                else:
                    conn.sendall(head)
                    conn.sendfile(f)
            if not keep:
                return
    except OSError:
        pass
    finally:
        rf.close()
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        conn.close()

while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY
head -c 1024 /dev/urandom >"$www/small"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$www/big"
BIG_BYTES=$((SIZE_MB * 1024 * 1024))
python3 "$tmp/server.py" "$www" "$tmp/port" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.05; done
[[ -s $tmp/port ]] || die "the test server did not start: $(cat "$tmp/server.err")"
PORT=$(cat "$tmp/port")

# One process per sandbox runs N fetches, each a separate curl, i.e. a fresh
# connection each (no connection reuse for any setup), and prints per fetch:
# status, bytes, time_total, speed, time_namelookup. time_total starts when
# curl starts the transfer (name lookup, connect, request, answer): the
# sandbox's start-up and curl's own start are not in it.
cat >"$ws/fetch.sh" <<'EOF'
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
    curl -sS -o /dev/null -w '%{http_code} %{size_download} %{time_total} %{speed_download} %{time_namelookup}\n' "$@" || exit $?
    i=$((i + 1))
done
EOF
FETCH=(sh "$ws/fetch.sh")

# --- the setups --------------------------------------------------------------------
URL=http://$NAME:$PORT
# none: on the host, never through a proxy the environment might name.
NONE_CMD=()
NONE_ARGS=(--noproxy '*' "$URL")
# none-ip: the same by address, so curl does no name lookup (its threaded
# resolver and NSS cost ~0.7 ms per process here). Through a proxy curl does
# none either (the proxy is 127.0.0.1), so this is the stricter floor.
NONE_IP_ARGS=(--noproxy '*' "http://$addr:$PORT")
# agentbox: NAME:PORT allowed (so a transparent listener exists on PORT), and
# 127.0.0.1, without which the supervisor refuses a name that resolves to
# loopback. The audit log (on, as by default) goes to the temporary directory.
AGENTBOX_CMD=("$AGENTBOX" run --workspace "$ws" --allow "$NAME:$PORT" --allow 127.0.0.1
              --audit "$tmp/audit.jsonl" --)
PROXY_ARGS=("$URL")                       # HTTP_PROXY is set in the box
TRANSPARENT_ARGS=(--noproxy '*' "$URL")   # via the DNS stub's 127.100.x.y

# srt: its allowedDomains takes no single-label name (a pattern needs a dot,
# or is `localhost`), so it is given `localhost`, which its proxy on the host
# resolves to the same 127.0.0.1 server. It puts localhost in NO_PROXY (a
# direct connection from its box goes nowhere), so curl is told --noproxy ''
# to use the HTTP_PROXY it sets.
SRT_URL=http://localhost:$PORT
SRT_ARGS=(--noproxy '' "$SRT_URL")
# shellcheck source=bench/srt.sh
. "$BENCH_DIR/srt.sh"

# Print the command line as a shell would read it.
q() {
    if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf '%s' "$1"; return; fi
    local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"
}
cmdline() { local out="" a; for a in "$@"; do out+="$(q "$a") "; done; printf '%s' "${out% }"; }

# The command of one setup's process: CMD is what runs fetch.sh (nothing for
# none), ARGS curl's arguments, the URL last (full_cmd appends the file name).
setup_cmd() {   # name -> fills CMD (the command before fetch.sh) and ARGS
    case $1 in
        none)                 CMD=("${NONE_CMD[@]}");     ARGS=("${NONE_ARGS[@]}") ;;
        none-ip)              CMD=("${NONE_CMD[@]}");     ARGS=("${NONE_IP_ARGS[@]}") ;;
        agentbox-proxy)       CMD=("${AGENTBOX_CMD[@]}"); ARGS=("${PROXY_ARGS[@]}") ;;
        agentbox-transparent) CMD=("${AGENTBOX_CMD[@]}"); ARGS=("${TRANSPARENT_ARGS[@]}") ;;
        srt)                  CMD=(env "TMPDIR=$tmp/srt-tmp" "${SRT_CMD[@]}"); ARGS=("${SRT_ARGS[@]}") ;;
    esac
}
full_cmd() {    # name count file -> FULL
    local name=$1 count=$2 file=$3
    setup_cmd "$name"
    local last=$((${#ARGS[@]} - 1))
    FULL=("${CMD[@]}" "${FETCH[@]}" "$count" "${ARGS[@]:0:last}" "${ARGS[last]}/$file")
}

# Run FULL in the background, sampling VmHWM / VmRSS / CPU of its top process
# (agentbox itself, or srt's node) every 50 ms while it runs. The last sample
# is kept (VmHWM only grows) in $3.
run_sampled() {  # out err memfile
    local out=$1 err=$2 mem=$3 pid hwm="" rss_max=0 ticks="" k v _
    "${FULL[@]}" >"$out" 2>"$err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        local h="" r=""
        if [[ -r /proc/$pid/status ]]; then
            while read -r k v _; do
                case $k in VmHWM:) h=$v ;; VmRSS:) r=$v ;; esac
            done 2>/dev/null <"/proc/$pid/status" || true
            [[ -n $h ]] && hwm=$h
            [[ -n $r ]] && ((r > rss_max)) && rss_max=$r
            local stat=""
            read -r stat 2>/dev/null <"/proc/$pid/stat" || true
            if [[ -n $stat ]]; then
                stat=${stat##*) }                  # fields from 3 on
                read -r -a f <<<"$stat"
                ticks=$(( f[11] + f[12] ))       # utime + stime (fields 14, 15)
            fi
        fi
        sleep 0.05
    done
    local rc=0
    wait "$pid" || rc=$?
    printf '%s %s %s %s\n' "${hwm:-0}" "$rss_max" "${ticks:-0}" "$(getconf CLK_TCK)" >"$mem"
    return "$rc"
}

check_setup() {  # name: one small fetch must come back 200 with 1024 bytes
    local name=$1 out
    full_cmd "$name" 1 small
    if ! out=$("${FULL[@]}" 2>"$tmp/check.err"); then
        printf '%s cannot fetch %s: %s' "$name" "${FULL[-1]}" "$(tr '\n' ' ' <"$tmp/check.err")"
        return 1
    fi
    if [[ ${out%% *} != 200 || $(awk '{ print $2 }' <<<"$out") != 1024 ]]; then
        printf '%s fetched %s but got: %s %s' "$name" "${FULL[-1]}" "$out" "$(tr '\n' ' ' <"$tmp/check.err")"
        return 1
    fi
}

# --- srt -----------------------------------------------------------------------
srt_check() { check_setup srt; }
srt_prepare '["localhost"]' srt_check

# none and agentbox must work: without them there is nothing to compare.
for s in none none-ip agentbox-proxy agentbox-transparent; do
    reason=$(check_setup "$s") || die "$reason"
done
[[ -s $tmp/audit.jsonl ]] || die "agentbox fetched, but wrote no audit line: did the traffic go through it?"

# --- measure -------------------------------------------------------------------
names=(none none-ip agentbox-proxy agentbox-transparent)
[[ -z $SRT_REASON ]] && names+=(srt)
note "agentbox network benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), uid $(id -u), $(nproc) cpus, kernel $(uname -r)"
note "  agentbox: $AGENTBOX ($("$AGENTBOX" version 2>/dev/null | head -n1 || echo '?'))"
if [[ -z $SRT_REASON ]]; then note "  srt:      $SRT_DESC"; else note "  srt:      NOT MEASURED: $SRT_REASON"; fi
note "  $(curl --version | head -n1 | cut -d' ' -f1-2); server: python3 sendfile server on 127.0.0.1:$PORT; '$NAME' -> $addr (/etc/hosts)"
note "  per setup: $((FETCH_PER_ROUND * ROUNDS)) fetches of a 1 KiB file (first of each process dropped), $((DL_PER_ROUND * ROUNDS)) downloads of $SIZE_MB MiB, in $ROUNDS interleaved rounds"
note "  commands (one process per setup and round; COUNT fetches, FILE small or big):"
for s in "${names[@]}"; do
    full_cmd "$s" COUNT FILE
    note "    $(printf '%-21s' "$s") $(cmdline "${FULL[@]}")"
done
note ""

start=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
    printf 'round %d/%d:' "$r" "$ROUNDS"
    n=${#names[@]}
    for ((i = 0; i < n; i++)); do          # rotate the order from round to round
        s=${names[(i + r - 1) % n]}
        printf ' %s' "$s"
        full_cmd "$s" $((FETCH_PER_ROUND + 1)) small
        what=latency
        if "${FULL[@]}" >"$tmp/out/lat-$s-$r" 2>"$tmp/out/lat-$s-$r.err"; then
            what=download
            full_cmd "$s" "$DL_PER_ROUND" big
            run_sampled "$tmp/out/dl-$s-$r" "$tmp/out/dl-$s-$r.err" "$tmp/out/mem-$s-$r" && continue
        fi
        msg="$s failed in round $r ($what): $(tail -n 3 "$tmp/out/"*"-$s-$r.err" 2>/dev/null | grep -v '^==>' | tr '\n' ' ')"
        [[ $s == srt ]] || { echo; die "$msg"; }
        SRT_REASON=$msg                    # srt is dropped; the rest goes on
        rm -f "$tmp/out/"*-srt-*
        names=(none none-ip agentbox-proxy agentbox-transparent)
        break
    done
    printf ' (%ds)\n' $((SECONDS - start))
done
note ""

if [[ -n ${BENCH_OUT:-} ]]; then
    mkdir -p "$BENCH_OUT"
    cp "$tmp"/out/* "$BENCH_OUT"/
    note "raw samples copied to $BENCH_OUT"
fi

# --- report --------------------------------------------------------------------
python3 - "$tmp/out" "$ROUNDS" "$BIG_BYTES" "$SRT_REASON" \
    "$TARGET_LATENCY" "$TARGET_THROUGHPUT" "$TARGET_MEM_MIB" <<'PY'
import os, statistics, sys

out, rounds, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
srt_reason = sys.argv[4]
t_lat, t_tput, t_mem = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
SETUPS = ["none", "none-ip", "agentbox-proxy", "agentbox-transparent", "srt"]

def lines(path):
    with open(path) as f:
        return [l.split() for l in f if l.strip()]

lat, look, rest, tput, mem, round_lat, bad = {}, {}, {}, {}, {}, [], []
for r in range(1, rounds + 1):
    meds = {}
    for s in SETUPS:
        p = os.path.join(out, f"lat-{s}-{r}")
        if not os.path.exists(p) or not os.path.exists(os.path.join(out, f"mem-{s}-{r}")):
            continue
        rows = lines(p)[1:]               # the first fetch of a process warms up
        for code, size, *_ in rows:
            if code != "200" or int(size) != 1024:
                bad.append(f"{s} round {r}: small fetch got {code} {size}")
        t = [float(x[2]) for x in rows]
        lat.setdefault(s, []).extend(t)
        look.setdefault(s, []).extend(float(x[4]) for x in rows)
        rest.setdefault(s, []).extend(float(x[2]) - float(x[4]) for x in rows)
        meds[s] = statistics.median(t)
        for code, size, _, speed, *_ in lines(os.path.join(out, f"dl-{s}-{r}")):
            if code != "200" or int(size) != big:
                bad.append(f"{s} round {r}: download got {code} {size}")
            tput.setdefault(s, []).append(float(speed))
        hwm, rss, ticks, hz = (int(x) for x in open(os.path.join(out, f"mem-{s}-{r}")).read().split())
        mem.setdefault(s, []).append((hwm, rss, ticks / hz))
    round_lat.append(meds)

for b in bad:
    print("WRONG:", b)
ms = lambda s: s * 1000.0
MBs = lambda b: b / 1e6
q = lambda v, p: sorted(v)[min(len(v) - 1, int(p * len(v)))]
L = {s: statistics.median(v) for s, v in lat.items()}
T = {s: statistics.median(v) for s, v in tput.items()}
dls = {s: len(v) for s, v in tput.items()}

print("per round (median latency, ms):")
for i, m in enumerate(round_lat, 1):
    cells = "  ".join(f"{s} {ms(m[s]):6.2f}" for s in SETUPS if s in m)
    print(f"  {i:2d}: {cells}")
print()
print(f"{'setup':<21} {'fetches':>7} {'median':>9} {'p10':>9} {'p90':>9} {'lookup':>9} {'rest':>9}   {'downloads':>9} {'median':>10} {'min':>10} {'max':>10}")
for s in SETUPS:
    if s not in lat:
        continue
    v, w = lat[s], tput[s]
    print(f"{s:<21} {len(v):>7} {ms(L[s]):6.2f} ms {ms(q(v, .1)):6.2f} ms {ms(q(v, .9)):6.2f} ms "
          f"{ms(statistics.median(look[s])):6.2f} ms {ms(statistics.median(rest[s])):6.2f} ms   "
          f"{len(w):>9} {MBs(T[s]):6.0f} MB/s {MBs(min(w)):5.0f} MB/s {MBs(max(w)):5.0f} MB/s")
print("  (latency: curl's time_total of a 1 KiB fetch on a fresh connection; lookup: its time_namelookup\n"
      "   (of the proxy's address when it uses one), rest: median of total - lookup;"
      " throughput: curl's speed_download, MB = 10^6 bytes)")
print()
print("memory and CPU of the process that carries the traffic, over the download processes:")
for s, who in (("agentbox-proxy", "agentbox (supervisor)"), ("agentbox-transparent", "agentbox (supervisor)"), ("srt", "srt's node")):
    if s not in mem:
        continue
    hwm = max(h for h, _, _ in mem[s])
    cpu = sum(c for _, _, c in mem[s]) / dls[s]
    print(f"  {s:<21} {who:<22} VmHWM max {hwm / 1024:5.1f} MiB; CPU {cpu:.2f} s per {big >> 20} MiB download")
print()

def verdict(ok):
    return "met" if ok else "NOT met"

if "srt" in L:
    for s in ("agentbox-proxy", "agentbox-transparent"):
        print(f"ratio {s}/srt latency (median): {L[s] / L['srt']:.3f}  (srt takes {L['srt'] / L[s]:.1f}x as long)")
    for s in ("agentbox-proxy", "agentbox-transparent"):
        print(f"ratio {s}/srt throughput (median): {T[s] / T['srt']:.2f}")
    print(f"srt's node VmHWM: {max(h for h, _, _ in mem['srt']) / 1024:.1f} MiB"
          f" (agentbox's supervisor: {max(h for s in ('agentbox-proxy', 'agentbox-transparent') for h, _, _ in mem[s]) / 1024:.1f} MiB)")
else:
    print(f"ratio agentbox/srt: n/a -- srt was NOT measured: {srt_reason}")
for s in ("agentbox-proxy", "agentbox-transparent"):
    print(f"ratio {s}/none-ip latency (median): {L[s] / L['none-ip']:.2f}"
          f"  (stricter: none-ip does no name lookup in curl)")
for s in ("agentbox-proxy", "agentbox-transparent"):
    r = L[s] / L["none"]
    print(f"ratio {s}/none latency (median): {r:.2f} (target <= {t_lat:g}, {verdict(r <= t_lat)})")
for s in ("agentbox-proxy", "agentbox-transparent"):
    r = T[s] / T["none"]
    print(f"ratio {s}/none throughput (median): {r:.2f} (target >= {t_tput:g}, {verdict(r >= t_tput)})")
hwm = max(h for s in ("agentbox-proxy", "agentbox-transparent") for h, _, _ in mem[s]) / 1024
print(f"agentbox supervisor peak RSS (VmHWM): {hwm:.1f} MiB (target < {t_mem:g} MiB, {verdict(hwm < t_mem)})")
PY
