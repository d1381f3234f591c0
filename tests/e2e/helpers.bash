# Shared set-up for the end-to-end tests.  AGENTBOX and PROBE_BIN come from
# tests/run; each test gets its own workspace holding a copy of the probe.

: "${AGENTBOX:?set AGENTBOX to the agentbox binary}"
: "${PROBE_BIN:?set PROBE_BIN to the probe binary}"

setup() {
        WS=$(mktemp -d "${TMPDIR:-/tmp}/abws.XXXXXX")
        chmod 755 "$WS"
        cp "$PROBE_BIN" "$WS/probe"
        HOST_HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
        CLEANUP=()
}

teardown() {
        local c
        for c in "${CLEANUP[@]}"; do eval "$c" 2>/dev/null || true; done
        rm -rf "$WS"
}

# box ARGS...: run the probe (or anything) in a box on $WS.
box() {
        "$AGENTBOX" run --workspace "$WS" "$@"
}

probe() {
        box -- ./probe "$@"
}

# The probe says BLOCKED and exits 1; anything else fails the test.
assert_blocked() {
        if [ "$status" -ne 1 ] || [[ "$output" != *BLOCKED* ]]; then
                echo "expected BLOCKED, got status $status: $output" >&2
                return 1
        fi
}

assert_escaped() {
        if [ "$status" -ne 0 ] || [[ "$output" != *ESCAPED* ]]; then
                echo "expected success, got status $status: $output" >&2
                return 1
        fi
}

# A free TCP port on loopback.
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
