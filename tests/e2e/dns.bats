#!/usr/bin/env bats
# The box's DNS stub and its transparent listeners: a tool that ignores
# proxy variables reaches an allowed name without configuration, and
# nothing else.  Servers listen on loopback; each records what reached it.

bats_require_minimum_version 1.5.0
load helpers

# A DNS client in python: "name rcode answers address" per query.
DNSQ='
import socket, struct, sys
def q(name, t=1, tcp=False):
    b = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    b += b"".join(bytes([len(l)]) + l.encode() for l in name.split("."))
    b += b"\0" + struct.pack(">HH", t, 1)
    if tcp:
        s = socket.create_connection(("127.0.0.1", 53), 5)
        s.sendall(struct.pack(">H", len(b)) + b)
        n = struct.unpack(">H", s.recv(2))[0]
        d = b""
        while len(d) < n:
            d += s.recv(n - len(d))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(b, ("127.0.0.1", 53))
        d = s.recv(1500)
    an = struct.unpack(">H", d[6:8])[0]
    addr = socket.inet_ntoa(d[-4:]) if an else "-"
    return "%s %d %d %s" % (name, d[3] & 15, an, addr)
'

@test "the box's resolver is the stub: allowed names get a loopback address of their own, denied ones NXDOMAIN" {
        loop_name
        run --separate-stderr nbox --allow "$NAME" --allow api.example.com -- python3 -c "$DNSQ
print(open('/etc/resolv.conf').read().strip())
print(q('$NAME'))
print(q('$NAME', tcp=True))
print(q('$NAME', t=28))
print(q('API.Example.COM'))
print(q('evil.example'))
print(q('evil.example', tcp=True))
print(socket.gethostbyname('api.example.com'))
print([l for l in open('/etc/hosts') if '127.100.' in l])
try:
    socket.gethostbyname('evil.example')
except socket.gaierror as e:
    print('gaierror', e.args[0] == socket.EAI_NONAME)
"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "nameserver 127.0.0.1" ]
        [ "${lines[1]}" = "$NAME 0 1 127.100.0.1" ]
        [ "${lines[2]}" = "$NAME 0 1 127.100.0.1" ]
        [ "${lines[3]}" = "$NAME 0 0 -" ]  # AAAA: empty, clients use the A
        [ "${lines[4]}" = "API.Example.COM 0 1 127.100.0.2" ]
        [ "${lines[5]}" = "evil.example 3 0 -" ]
        [ "${lines[6]}" = "evil.example 3 0 -" ]
        [ "${lines[7]}" = "127.100.0.2" ]
        # the listed names are in the box's /etc/hosts too: no lookup needed
        [ "${lines[8]}" = "['127.100.0.1\t$NAME\n', '127.100.0.2\tapi.example.com\n']" ]
        [ "${lines[9]}" = "gaierror True" ]
        [ "$stderr" = "agentbox: blocked a DNS lookup of evil.example (not in network.allow); allow it with --allow evil.example, or network.allow in agentbox.yaml" ]
        grep -q '"proto":"dns","host":"evil.example","port":0,"verdict":"deny"' "$BATS_TEST_TMPDIR/audit.jsonl"
        grep -q '"proto":"dns","host":"api.example.com","port":0,"verdict":"allow"' "$BATS_TEST_TMPDIR/audit.jsonl"
}

@test "DNS exfiltration: random subdomains are refused or answered in the box, never asked outside; the name table is capped" {
        run --separate-stderr nbox --allow '*.example.com' -- python3 -c "$DNSQ
import random, string
rnd = lambda: ''.join(random.choice(string.ascii_lowercase) for _ in range(30))
denied = [q(rnd() + '.evil.example').split()[1] for _ in range(50)]
print('denied', set(denied))
# names that exist nowhere still get an address: the stub answered from
# the policy alone, without looking anything up
allowed = [q(rnd() + '.secret.example.com').split() for _ in range(50)]
print('allowed', {a[1] for a in allowed}, len({a[3] for a in allowed}))
codes = [q('n%d.example.com' % i).split()[1] for i in range(4096)]
print('after the cap', codes[-1], codes.count('0'))
"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "denied {'3'}" ]
        [ "${lines[1]}" = "allowed {'0'} 50" ]
        [ "${lines[2]}" = "after the cap 2 4046" ]
        [[ "$stderr" == *"holds addresses for 4096 names, the most it holds, all used within 60 s"* ]]
        [ "$(grep -c '"proto":"dns","host":"[a-z]*.evil.example","port":0,"verdict":"deny"' "$BATS_TEST_TMPDIR/audit.jsonl")" -eq 50 ]
}

@test "without proxy variables: curl, git and a raw protocol reach an allowed name" {
        loop_name
        start_http_on "$NAME_ADDR"
        # a repository served as plain files (git's dumb HTTP protocol)
        local src="$BATS_TEST_TMPDIR/src" bare="$BATS_TEST_TMPDIR/www/repo.git"
        git init -q "$src"
        echo "cloned through the wall" >"$src/README"
        git -C "$src" add README
        git -C "$src" -c user.name=t -c user.email=t@t.invalid commit -qm one
        git clone -q --bare "$src" "$bare"
        git -C "$bare" update-server-info
        # an echo server speaking no HTTP and no TLS, like ssh's banner
        local eport
        eport=$(free_port)
        python3 -c "
import socket
s = socket.create_server(('$NAME_ADDR', $eport))
while True:
    c, _ = s.accept()
    c.sendall(c.recv(100))
    c.close()
" &
        CLEANUP+=("kill $!")
        wait_port "$NAME_ADDR" "$eport"
        run nbox --allow "$NAME:$PORT" --allow "$NAME:$eport" --allow "$NAME_ADDR" -- sh -c "
                $NOPROXY curl -sS -m 10 http://$NAME:$PORT/ &&
                $NOPROXY git clone -q http://$NAME:$PORT/repo.git c1 && cat c1/README &&
                git clone -q http://$NAME:$PORT/repo.git c2 && cat c2/README &&
                $NOPROXY python3 -c \"
import socket
s = socket.create_connection(('$NAME', $eport), 5)
s.sendall(b'SSH-2.0-agentbox-test\r\n')
print(s.recv(100))\""
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "hello from the host" ]
        [ "${lines[1]}" = "cloned through the wall" ]
        [ "${lines[2]}" = "cloned through the wall" ]
        [ "${lines[3]}" = "b'SSH-2.0-agentbox-test\\r\\n'" ]
        # the first clone went through the transparent listener, the
        # second through the proxy (it honours http_proxy)
        grep -q '"proto":"transparent","host":"'"$NAME"'","port":'"$PORT"',"verdict":"allow"' "$BATS_TEST_TMPDIR/audit.jsonl"
        grep -q '"proto":"http","host":"'"$NAME"'","port":'"$PORT"',"verdict":"allow"' "$BATS_TEST_TMPDIR/audit.jsonl"
        grep -q '"proto":"transparent","host":"'"$NAME"'","port":'"$eport"',"verdict":"allow"' "$BATS_TEST_TMPDIR/audit.jsonl"
}

@test "transparent: another port, an address the DNS never gave, a Host mismatch and a loopback answer are refused, and the server sees nothing" {
        loop_name
        start_http_on "$NAME_ADDR"
        run nbox --allow "$NAME:$PORT" --allow "$NAME_ADDR" -- sh -c "
                $NOPROXY curl -sS -m 10 http://$NAME/
                $NOPROXY curl -sS -m 10 http://127.100.0.77:$PORT/
                $NOPROXY curl -sS -m 10 -H 'Host: evil.example' http://$NAME:$PORT/
                $NOPROXY curl -sS -m 10 http://127.0.0.1:$PORT/"
        [[ "$output" == *"agentbox: blocked http://$NAME:80 (not in network.allow); allow it with --allow $NAME"* ]]
        [[ "$output" == *"agentbox: blocked a connection to 127.100.0.77:$PORT (not an address the box's DNS gave out"* ]]
        [[ "$output" == *"agentbox: blocked http://$NAME:$PORT (the Host header \"evil.example\" does not match the request's target; domain fronting is refused)"* ]]
        [[ "$output" == *"agentbox: blocked a connection to 127.0.0.1:$PORT (not an address the box's DNS gave out"* ]]
        run nbox --allow "$NAME:$PORT" -- sh -c "$NOPROXY curl -sS -m 10 http://$NAME:$PORT/"
        [ "$status" -ne 0 ]
        [[ "$output" == *"it resolves to $NAME_ADDR, an internal address"*"--allow $NAME_ADDR"* ]]
        ! grep -q GET "$HLOG"
}

@test "TLS: the server name must be the allowed name, transparently and through CONNECT" {
        loop_name
        local d="$BATS_TEST_TMPDIR"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key" -out "$d/cert" \
                -subj "/CN=$NAME" -days 1 2>/dev/null
        PORT=$(free_port)
        python3 "$BATS_TEST_DIRNAME/tls_server.py" "$NAME_ADDR" "$PORT" "$d/cert" "$d/key" "$d/tls.log" &
        CLEANUP+=("kill $!")
        wait_port "$NAME_ADDR" "$PORT"
        run nbox --allow "$NAME:$PORT" --allow "$NAME_ADDR" -- sh -c "
                $NOPROXY curl -sS -m 10 -k https://$NAME:$PORT/
                curl -sS -m 10 -k https://$NAME:$PORT/
                echo | $NOPROXY openssl s_client -connect $NAME:$PORT -servername evil.example 2>&1 | grep -c BEGIN
                echo | openssl s_client -proxy 127.0.0.1:3128 -connect $NAME:$PORT -servername evil.example 2>&1 | grep -c BEGIN"
        [ "${lines[0]}" = "hello over tls" ]
        [ "${lines[1]}" = "hello over tls" ]
        [ "$(grep -c "the TLS server name is evil.example, not the host the connection was allowed for" <<<"$output")" -ge 1 ]
        [[ "$output" != *"BEGIN CERTIFICATE"* ]]
        grep -q "sni=$NAME" "$d/tls.log"
        ! grep -q "sni=evil.example" "$d/tls.log"
        [ "$(grep -c '"reason":"sni-mismatch"' "$d/audit.jsonl")" -eq 2 ]
}

@test "more transparent ports than the cap is an error before the box starts" {
        local args=()
        for p in $(seq 2000 2016); do args+=(--allow "x.example:$p"); done
        run box "${args[@]}" -- true
        [ "$status" -eq 125 ]
        [ "$output" = "agentbox: network.allow names more than 16 ports (counting 80 and 443); reach the rest through the proxy" ]
}

@test "the box's addresses stand for their names everywhere: socks5 with local lookups, the proxy, and keep-alive on a transparent connection" {
        loop_name
        start_http11_on "$NAME_ADDR"
        run --separate-stderr nbox --allow "$NAME:$PORT" --allow "$NAME_ADDR" -- sh -c "
                curl -sS -m 10 --socks5 127.0.0.1:1080 http://$NAME:$PORT/a
                curl -sS -m 10 -x http://127.0.0.1:3128 http://127.100.0.1:$PORT/b
                $NOPROXY curl -sS -m 10 http://$NAME:$PORT/c http://$NAME:$PORT/d -w '%{num_connects}\n'"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "you asked for /a" ]
        [ "${lines[1]}" = "you asked for /b" ]
        [ "${lines[2]}" = "you asked for /c" ]
        [ "${lines[3]}" = 1 ]
        [ "${lines[4]}" = "you asked for /d" ]
        [ "${lines[5]}" = 0 ]   # the second went over the same connection
        [ "$(grep -c ' /[cd] ' "$HLOG")" -eq 2 ]
        [ "$(grep ' /[cd] ' "$HLOG" | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ]
        [ "$(grep -v '"event":"open"' "$BATS_TEST_TMPDIR/audit.jsonl" | grep -c '"proto":"transparent","host":"'"$NAME"'".*"verdict":"allow"')" -eq 2 ]
}

@test "a flood of denied lookups cannot fill the audit log: the rest of the run is still logged" {
        run --separate-stderr nbox --allow api.example.com -- python3 -c "$DNSQ
codes = {q('n%d.evil.example' % i).split()[1] for i in range(10050)}
print(codes, q('late.example.com').split()[1], q('api.example.com').split()[1])
"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "{'3'} 3 0" ]
        local log="$BATS_TEST_TMPDIR/audit.jsonl"
        [ "$(grep -c '"proto":"dns","host":"n[0-9]*.evil.example"' "$log")" -eq 10000 ]
        grep -q '"reason":"denials-capped"' "$log"
        # what comes after the cap is still there
        tail -1 "$log" | grep -q '"host":"api.example.com","port":0,"verdict":"allow"'
}

@test "ssh to an allowed host and port goes through with no configuration" {
        # A stand-in server: it sends an SSH banner and records the
        # client's.  Reaching it at all, by name, is what is tested; the
        # key exchange then fails, as it should against a fake.
        loop_name
        local sport log="$BATS_TEST_TMPDIR/ssh.log"
        sport=$(free_port)
        python3 -c "
import socket
s = socket.create_server(('$NAME_ADDR', $sport))
while True:
    c, _ = s.accept()
    c.sendall(b'SSH-2.0-agentbox-fake\r\n')
    c.settimeout(10)
    try:
        got = c.recv(200)
    except OSError:
        got = b''
    if got:
        open('$log', 'ab').write(got)
    c.close()
" &
        CLEANUP+=("kill $!")
        wait_port "$NAME_ADDR" "$sport"
        run nbox --allow "$NAME:$sport" --allow "$NAME_ADDR" -- \
                ssh -o BatchMode=yes -o StrictHostKeyChecking=no \
                -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
                -p "$sport" "$NAME" true
        [ "$status" -ne 0 ]
        grep -q '^SSH-2.0-OpenSSH' "$log"
        grep -q '"proto":"transparent","host":"'"$NAME"'","port":'"$sport"',"verdict":"allow"' "$BATS_TEST_TMPDIR/audit.jsonl"
}

@test "the name table: a flood of wildcard names never takes a listed name's address, and names unused for a minute give theirs to new ones" {
        # 4096 names fill the table; the listed name (in the box's
        # /etc/hosts, pinned) still answers; new names fail while all are
        # fresh, and get an address once the flood's have gone unused 60 s
        run --separate-stderr nbox --allow '*.example.com' --allow api.example.org -- python3 -c "$DNSQ
import time
pinned = q('api.example.org').split()
codes = [q('f%d.example.com' % i).split()[1] for i in range(4200)]
print('flood', codes.count('0'), codes.count('2'))
again = q('api.example.org').split()
print('pinned', again[1], again[3] == pinned[3])
print('fresh', q('new1.example.com').split()[1])
time.sleep(62)
later = q('new2.example.com').split()
print('later', later[1])
"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"flood 4095 105"* ]]
        [[ "$output" == *"pinned 0 True"* ]]
        [[ "$output" == *"fresh 2"* ]]
        [[ "$output" == *"later 0"* ]]
}
