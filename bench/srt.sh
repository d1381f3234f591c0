# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # SRT_* are for the caller; tmp is the caller's
# Sourced by the benchmarks: find Anthropic's sandbox-runtime (installed by
# bench/setup.sh into bench/node_modules) and a Node new enough to run it.
# Needs BENCH_DIR, NO_SRT, tmp and note() from the caller.

SRT_CLI=$BENCH_DIR/node_modules/@anthropic-ai/sandbox-runtime/dist/cli.js
SRT_REASON=""          # empty while srt can be benchmarked
SRT_DESC=""
SRT_CMD=()

node_ok() {
    local v major rest minor
    v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
    major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
    (( major > 22 || (major == 22 && minor >= 12) ))
}

find_node() {
    if [[ -n ${NODE:-} ]]; then node_ok "$NODE" && { echo "$NODE"; return; }; return 1; fi
    local n
    n=$(command -v node || true)
    [[ -n $n ]] && node_ok "$n" && { echo "$n"; return; }
    n=$BENCH_DIR/node_modules/.bin/node
    [[ -x $n ]] && node_ok "$n" && { echo "$n"; return; }
    return 1
}

# srt_prepare DOMAINS CHECK: set SRT_CMD to run srt with its default config
# (no writes but its built-in paths, reads allowed) and allowedDomains
# DOMAINS (a JSON list), written out so that a ~/.srt-settings.json of
# whoever runs the benchmark changes nothing; then run the function CHECK,
# which prints why srt cannot be measured and fails, if it cannot.  On any
# failure SRT_REASON says why.
srt_prepare() {
    local domains=$1 check=$2 missing=() t
    if [[ $NO_SRT == 1 ]]; then
        SRT_REASON="left out because NO_SRT=1"
        return
    fi
    if [[ ! -f $SRT_CLI ]] || ! find_node >/dev/null; then
        note "srt (or a Node >= 22.12 for it) is not installed in bench/node_modules: running bench/setup.sh"
        if ! "$BENCH_DIR/setup.sh" >"$tmp/setup.log" 2>&1; then
            sed 's/^/  | /' "$tmp/setup.log"
            SRT_REASON="bench/setup.sh failed (output above)"
            return
        fi
    fi
    if [[ ! -f $SRT_CLI ]]; then
        SRT_REASON="sandbox-runtime is not installed ($SRT_CLI missing)"
        return
    fi
    if ! SRT_NODE=$(find_node); then
        SRT_REASON="no Node >= 22.12 to run it (system node: $(node --version 2>/dev/null || echo none))"
        return
    fi
    for t in socat rg bwrap; do command -v "$t" >/dev/null || missing+=("$t"); done
    if ((${#missing[@]})); then
        SRT_REASON="it needs ${missing[*]} on PATH (Debian packages socat, ripgrep, bubblewrap), not installed"
        return
    fi
    cat >"$tmp/srt-settings.json" <<JSON
{
  "network": { "allowedDomains": $domains, "deniedDomains": [] },
  "filesystem": { "denyRead": [], "allowRead": [], "allowWrite": [], "denyWrite": [] }
}
JSON
    SRT_CMD=("$SRT_NODE" "$SRT_CLI" --settings "$tmp/srt-settings.json")
    SRT_DESC="srt $("$SRT_NODE" "$SRT_CLI" --version 2>/dev/null || echo '?') on node $("$SRT_NODE" --version)"
    if ! SRT_REASON=$("$check"); then
        SRT_REASON=${SRT_REASON//$'\n'/ | }
        SRT_CMD=()
    else
        SRT_REASON=""
    fi
}
