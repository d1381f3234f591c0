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

# start_http: a host HTTP server on 127.0.0.1; sets PORT and HLOG.
start_http() {
        start_http_on 127.0.0.1
}

# nbox ARGS... -- CMD: a box whose proxy is used even for localhost.
nbox() {
        box --audit "$BATS_TEST_TMPDIR/audit.jsonl" "$@"
}

# loop_name: a name the host resolves (through /etc/hosts) to loopback and
# the box does not: its own hostname.  The box's DNS stub answers for it,
# and the supervisor dials what the host resolves it to.  Sets NAME and
# NAME_ADDR.
loop_name() {
        NAME=$(hostname)
        NAME_ADDR=$(getent ahostsv4 "$NAME" | awk 'NR == 1 {print $1}')
        if [[ "$NAME_ADDR" != 127.* ]] || [ "$NAME" = localhost ]; then
                echo "this test needs the machine's hostname ($NAME) to resolve to a loopback address in /etc/hosts; it resolves to '$NAME_ADDR'" >&2
                return 1
        fi
}

# start_http_on ADDR: a host HTTP server on ADDR; sets PORT and HLOG.
start_http_on() {
        PORT=$(free_port)
        HLOG="$BATS_TEST_TMPDIR/http.log"
        mkdir -p "$BATS_TEST_TMPDIR/www"
        echo "hello from the host" >"$BATS_TEST_TMPDIR/www/index.html"
        # http.server's own listen backlog is 5: too few for the load test
        (cd "$BATS_TEST_TMPDIR/www" && exec timeout 60 python3 -c "
import http.server as h, sys
class S(h.ThreadingHTTPServer):
    request_queue_size = 256
S(('$1', $PORT), h.SimpleHTTPRequestHandler).serve_forever()
") >"$HLOG" 2>&1 &
        CLEANUP+=("kill $!")
        wait_port "$1" "$PORT"
}

wait_port() {
        for _ in $(seq 100); do
                python3 -c "import socket; socket.create_connection(('$1', $2), 0.2)" 2>/dev/null && return 0
                sleep 0.05
        done
        return 1
}

# Run without any proxy variable: what a tool that ignores them does.
NOPROXY='env -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u http_proxy -u https_proxy -u all_proxy -u NO_PROXY -u no_proxy'

# start_http11 / start_http11_on ADDR: an HTTP/1.1 keep-alive server that
# logs the client's port and the Host with each request, so a test can see
# connection reuse and what reached it.
start_http11() {
        start_http11_on 127.0.0.1
}

start_http11_on() {
        PORT=$(free_port)
        HLOG="$BATS_TEST_TMPDIR/http11.log"
        : >"$HLOG"
        python3 -c "
import http.server as h
class H(h.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = ('you asked for %s\n' % self.path).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
    do_HEAD = do_GET
    def log_message(self, fmt, *args):
        open('$HLOG', 'a').write('peer=%d %s %s host=%s\n' % (self.client_address[1], self.command, self.path, self.headers.get('Host')))
h.ThreadingHTTPServer(('$1', $PORT), H).serve_forever()
" &
        CLEANUP+=("kill $!")
        wait_port "$1" "$PORT"
}
