#!/usr/bin/env bats
# Domain fronting against real servers: every request-line form that
# nginx or Python's http.server parses (tests/data/tunnel/cases.txt, the
# "http" ones), sent to an allowed name by each path (transparent,
# CONNECT, SOCKS5) with a Host that names another virtual host of the same
# server, is refused; the other virtual host logs nothing.

bats_require_minimum_version 1.5.0
load helpers

# nginx on PORT: localhost (allowed) and evil.example (the default server,
# so a request with no Host, HTTP/0.9, would land there too), each with a
# log of its own.  NGX_EVIL is the evil host's log.
start_nginx() {
        # /usr/sbin is not on an ordinary user's PATH on Debian
        local nginx; nginx=$(PATH=$PATH:/usr/sbin command -v nginx) ||
                { echo "nginx is not installed (scripts/install-deps installs nginx-light)" >&2; return 1; }
        PORT=$(free_port)
        local d="$BATS_TEST_TMPDIR/nginx"
        mkdir -p "$d/logs"
        NGX_EVIL="$d/logs/evil.log"
        NGX_GOOD="$d/logs/good.log"
        : >"$NGX_EVIL"
        cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
error_log $d/logs/error.log;
pid $d/nginx.pid;
events { worker_connections 64; }
http {
        access_log off;
        client_body_temp_path $d; proxy_temp_path $d; fastcgi_temp_path $d;
        uwsgi_temp_path $d; scgi_temp_path $d;
        server {
                listen 127.0.0.1:$PORT default_server;
                server_name evil.example;
                access_log $NGX_EVIL;
                location / { return 200 "evil\n"; }
        }
        server {
                listen 127.0.0.1:$PORT;
                server_name localhost $(hostname);
                access_log $NGX_GOOD;
                location / { return 200 "good\n"; }
        }
}
CONF
        "$nginx" -p "$d" -c "$d/nginx.conf" &
        CLEANUP+=("kill $!")
        wait_port 127.0.0.1 "$PORT"
}

# Python's http.server on PYPORT, routing by Host as a virtual-host server
# would: what reaches evil.example is logged in PY_EVIL.
start_pyvhost() {
        PYPORT=$(free_port)
        PY_EVIL="$BATS_TEST_TMPDIR/py-evil.log"
        : >"$PY_EVIL"
        python3 -c "
import http.server as h, sys
class H(h.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'   # kept alive, and bodies left unread
    def answer(self):
        host = (self.headers.get('Host') or '') if self.headers else ''
        if 'evil' in host.lower() or not host:
            open('$PY_EVIL', 'a').write(repr(self.raw_requestline) + '\n')
        self.send_response(200); self.send_header('Content-Length', '3')
        self.end_headers(); self.wfile.write(b'ok\n')
    do_GET = do_HEAD = do_POST = do_PROPFIND = do_PURGE = do_get = answer
    def log_message(self, *a): pass
h.ThreadingHTTPServer(('127.0.0.1', $PYPORT), H).serve_forever()
" &
        CLEANUP+=("kill $!")
        wait_port 127.0.0.1 "$PYPORT"
}

# The "http" cases, each made a full request for evil.example.
forms() {
        python3 - "$BATS_TEST_DIRNAME/../data/tunnel/cases.txt" <<'PY'
import codecs, sys
for line in open(sys.argv[1]):
    if line.startswith("#") or "|" not in line:
        continue
    name, data, want = [x for x in line.rstrip("\n").split("|")]
    if want.strip() != "http":
        continue
    raw = codecs.escape_decode(data[1:].rstrip(" ").encode())[0]
    # through the request line (blank lines before it kept), then a Host
    # of the other virtual host
    lead = len(raw) - len(raw.lstrip(b"\r\n"))
    end = raw.find(b"\n", lead)
    if end < 0:
        continue                       # a partial line: not a request
    print((raw[:end] + b"\nHost: evil.example\r\n\r\n").hex(), name.strip())
PY
}

attack() {
        # $1 port, rest: the forms file
        run --separate-stderr nbox --allow localhost --allow "$NAME:$1" --allow 127.0.0.1 -- python3 - "$1" "$NAME" forms <<'PY'
import socket, struct, sys
port, name, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def drain(s):
    out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            out += d
    except OSError:
        pass
    return out
def first(out):
    return (out.split(b"\r\n")[0] or b"closed").decode(errors="replace")
for line in open(path):
    hexdata, form = line.split()
    data = bytes.fromhex(hexdata)
    s = socket.create_connection((name, port), 10); s.settimeout(5)
    s.sendall(data)
    print(form, "transparent", first(drain(s)))
    s = socket.create_connection(("127.0.0.1", 3128), 10); s.settimeout(5)
    s.sendall(b"CONNECT localhost:%d HTTP/1.1\r\n\r\n" % port); s.recv(100)
    s.sendall(data)
    print(form, "connect", first(drain(s)))
    s = socket.create_connection(("127.0.0.1", 1080), 10); s.settimeout(5)
    s.sendall(b"\x05\x01\x00"); s.recv(2)
    s.sendall(b"\x05\x01\x00\x03\x09localhost" + struct.pack(">H", port)); s.recv(10)
    s.sendall(data)
    print(form, "socks", first(drain(s)))
PY
}

@test "every request-line form nginx or Python's http.server parses, to an allowed name by each path, is refused when it names another virtual host" {
        loop_name
        forms >"$WS/forms"
        [ "$(wc -l <"$WS/forms")" -gt 20 ]
        start_nginx
        start_pyvhost
        attack "$PORT"
        echo "$output"
        echo "$stderr"
        [ "$status" -eq 0 ]
        [ "$(grep -c . <<<"$output")" -eq $(( 3 * $(wc -l <"$WS/forms") )) ]
        # nothing answered as a server would have (nginx says 200 "evil")
        ! grep -q ' HTTP/1.[01] 200' <<<"$output"
        [ ! -s "$NGX_EVIL" ] || { cat "$NGX_EVIL"; false; }
        attack "$PYPORT"
        echo "$output"
        [ "$status" -eq 0 ]
        ! grep -q ' HTTP/1.[01] 200' <<<"$output"
        [ ! -s "$PY_EVIL" ] || { cat "$PY_EVIL"; false; }
        # and the same allowed name still works, by each path
        run nbox --allow localhost --allow 127.0.0.1 --allow "$NAME:$PORT" -- sh -c "curl -s http://$NAME:$PORT/; curl -s --noproxy '' -x http://127.0.0.1:3128 http://localhost:$PORT/; curl -s --noproxy '' -x socks5h://127.0.0.1:1080 http://localhost:$PORT/"
        echo "$output"
        [ "$output" = "$(printf 'good\ngood\ngood')" ]
}

@test "on ports 80 and 443 a tunnel that is neither HTTP nor TLS is refused, with a sentence and an audit line; on another allowed port it is relayed" {
        loop_name
        local p; p=$(free_port)
        python3 -c "
import socket
s = socket.create_server(('127.0.0.1', $p))
while True:
    c, _ = s.accept(); c.sendall(c.recv(100)); c.close()
" &
        CLEANUP+=("kill $!")
        wait_port 127.0.0.1 "$p"
        run --separate-stderr nbox --allow localhost --allow 127.0.0.1 --allow "$NAME:$p" -- python3 -c "
import socket
def echo(port, data):
    s = socket.create_connection(('127.0.0.1', 3128), 10); s.settimeout(5)
    s.sendall(b'CONNECT localhost:%d HTTP/1.1\r\n\r\n' % port); s.recv(100)
    s.sendall(data)
    try: return s.recv(100)
    except OSError as e: return repr(e).encode()
print('ssh', echo($p, b'SSH-2.0-OpenSSH_9.2\r\n'))
print('binary', echo($p, b'\x00\x00\x00\x08\x04\xd2\x16\x2f'))
"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"ssh b'SSH-2.0-OpenSSH_9.2\\r\\n'"* ]]
        [[ "$output" == *"binary b'\\x00\\x00\\x00\\x08"* ]]
        # port 443 of the same name: the HTTP ports take HTTP and TLS only
        # (the tunnel to localhost:443 is allowed by the name alone).  Only
        # root can listen on 443 here; the rule itself is the same code for
        # everyone (and test_tunnel has the classifier's cases)
        [ "$(id -u)" -eq 0 ] || return 0
        python3 -c "
import socket
s = socket.create_server(('127.0.0.1', 443))
while True:
    c, _ = s.accept(); c.sendall(c.recv(100)); c.close()
" &
        CLEANUP+=("kill $!")
        wait_port 127.0.0.1 443
        run --separate-stderr nbox --allow localhost --allow 127.0.0.1 -- python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', 3128), 10); s.settimeout(5)
s.sendall(b'CONNECT localhost:443 HTTP/1.1\r\n\r\n'); print(s.recv(100))
s.sendall(b'SSH-2.0-OpenSSH_9.2\r\n')
print('after', s.recv(100))
"
        echo "$output"
        echo "$stderr"
        [[ "$stderr" == *"blocked a connection to localhost:443: its first bytes are neither HTTP nor TLS"* ]]
        grep -q '"reason":"not-http-or-tls"' "$BATS_TEST_TMPDIR/audit.jsonl"
}

@test "no request hidden in a body, no bracketed Host, no bytes a server sends unasked get past the proxy or out of the log" {
        loop_name
        start_nginx
        start_pyvhost
        # a server that answers, then goes on sending unasked
        local pport; pport=$(free_port)
        python3 -c "
import socket, time
s = socket.create_server(('127.0.0.1', $pport))
while True:
    c, _ = s.accept(); c.recv(1000)
    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n')
    time.sleep(0.3)
    try: c.sendall(b'x' * 1000000)
    except OSError: pass
    c.close()
" &
        CLEANUP+=("kill $!")
        wait_port 127.0.0.1 "$pport"
        run --separate-stderr nbox --allow localhost --allow 127.0.0.1 --allow "$NAME:$PORT" --allow "$NAME:$PYPORT" --allow "$NAME:$pport" -- python3 - "$NAME" "$PORT" "$PYPORT" "$pport" <<'PY'
import socket, struct, sys, time
name, nport, pyport, pport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def drain(s):
    out = b""
    s.settimeout(3)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    return out
def paths(port, make):
    # make(host) gives the bytes, for the name the tunnel was opened to
    s = socket.create_connection((name, port), 10); s.sendall(make(name.encode()))
    yield "transparent", s
    s = socket.create_connection(("127.0.0.1", 3128), 10)
    s.sendall(b"CONNECT localhost:%d HTTP/1.1\r\n\r\n" % port); s.recv(100); s.sendall(make(b"localhost"))
    yield "connect", s
    s = socket.create_connection(("127.0.0.1", 1080), 10)
    s.sendall(b"\x05\x01\x00"); s.recv(2)
    s.sendall(b"\x05\x01\x00\x03\x09localhost" + struct.pack(">H", port)); s.recv(10); s.sendall(make(b"localhost"))
    yield "socks", s
hidden = b"POST /smuggled HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 0\r\n\r\n"
for port in (nport, pyport):
    smuggle = lambda h: (b"GET / HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n\r\n" % (h, port, len(hidden))) + hidden
    for path, s in paths(port, smuggle):
        out = drain(s)
        print("smuggle", port, path, out.split(b"\r\n")[0].decode(), out.count(b"HTTP/1."), b"evil" in out)
    for path, s in paths(port, lambda h: b"GET / HTTP/1.1\r\nHost: [%s]:%d\r\n\r\n" % (h, port)):
        print("brackets", port, path, drain(s).split(b"\r\n")[0].decode())
    # the proxy's own forwarding
    s = socket.create_connection(("127.0.0.1", 3128), 10)
    s.sendall(smuggle(b"localhost").replace(b"GET / ", b"GET http://localhost:%d/ " % port, 1))
    out = drain(s)
    print("smuggle", port, "forward", out.split(b"\r\n")[0].decode(), out.count(b"HTTP/1."), b"evil" in out)
    # a NUL in the first request line, another host's request after it
    for path, s in paths(port, lambda h: b"GET /\x00 HTTP/1.1\r\nHost: %s:%d\r\n\r\nGET /second HTTP/1.1\r\nHost: evil.example\r\n\r\n" % (h, port)):
        out = drain(s)
        print("nul", port, path, out.split(b"\r\n")[0].decode(), b"evil" in out)
for path, s in paths(pport, lambda h: b"GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (h, pport)):
    print("unasked", path, len(drain(s)))
PY
        echo "$output"
        echo "$stderr"
        [ "$status" -eq 0 ]
        # one answer each, never the other host's
        [ "$(grep -c '^smuggle .* HTTP/1.[01] 200 OK 1 False$' <<<"$output")" -eq 8 ]
        [ "$(grep -c '^brackets .* HTTP/1.1 403 Forbidden$' <<<"$output")" -eq 6 ]
        [ "$(grep -c '^nul .* HTTP/1.1 400 Bad Request False$' <<<"$output")" -eq 6 ]
        [ ! -s "$NGX_EVIL" ] || { cat "$NGX_EVIL"; false; }
        [ ! -s "$PY_EVIL" ] || { cat "$PY_EVIL"; false; }
        # what the server sent unasked did not reach the box, and is logged
        [ "$(grep -c '^unasked [a-z]* 4[0-9]$' <<<"$output")" -eq 3 ]
        [ "$(grep -c '"reason":"upstream-unasked"' "$BATS_TEST_TMPDIR/audit.jsonl")" -eq 3 ]
}
