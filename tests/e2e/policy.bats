#!/usr/bin/env bats
# The policy file and its layers, driven through agentbox-test: the same
# code as agentbox, but its managed file, user file and state directory
# are this test's own (so no test touches /etc or root's home).  Each key
# is shown by check with where it came from, and proved from inside the
# box by what the box can and cannot do.

bats_require_minimum_version 1.5.0
load helpers

CURL='curl -sS -m 10 --noproxy ""'

policy_setup() {
        AB="${AGENTBOX%/*}/tests/agentbox-test"
        [ -x "$AB" ] || { echo "no $AB: build the tests" >&2; return 1; }
        P="$BATS_TEST_TMPDIR/policy"
        mkdir -p "$P/etc" "$P/state"
        chmod 755 "$P" "$P/etc"
        export AGENTBOX_TEST_MANAGED="$P/etc/managed.yaml"
        export AGENTBOX_TEST_USER_CONFIG="$P/config.yaml"
        export AGENTBOX_TEST_STATE="$P/state"
}

ab() {
        "$AB" "$@"
}

@test "three layers and flags: check says where each value came from, and each takes effect in the box" {
        policy_setup
        start_http
        cat >"$AGENTBOX_TEST_MANAGED" <<EOF
version: 1
network:
  deny: [paste.example]
resources:
  memory: 1G
  pids: 400
filesystem:
  protect: [corp]
EOF
        cat >"$AGENTBOX_TEST_USER_CONFIG" <<EOF
version: 1
network:
  allow: [localhost, "127.0.0.1:$PORT"]
env:
  set: {FROM_USER: u}
resources: {pids: 300, cpus: 1.5}
EOF
        mkdir -p "$WS/keys" "$WS/corp"
        cat >"$WS/agentbox.yaml" <<EOF
version: 1
env:
  set: {FROM_PROJECT: p}
resources: {tmp: 64M}
filesystem:
  protect: [keys]
EOF
        chmod 644 "$AGENTBOX_TEST_MANAGED" "$AGENTBOX_TEST_USER_CONFIG"
        run ab check -w "$WS" --memory 512M
        [ "$status" -eq 0 ]
        [[ "$output" == *"project  $WS/agentbox.yaml (untrusted, narrows only)"* ]]
        [[ "$output" =~ resources.memory\ +512M\ +command\ line ]]
        [[ "$output" =~ resources.pids\ +300\ +user\ $AGENTBOX_TEST_USER_CONFIG:6:19 ]]
        [[ "$output" =~ resources.cpus\ +1.500\ +user\ $AGENTBOX_TEST_USER_CONFIG:6:30 ]]
        [[ "$output" =~ resources.tmp\ +64M\ +project\ $WS/agentbox.yaml:4:18 ]]
        [[ "$output" =~ network.deny\ +paste.example\ +managed\ $AGENTBOX_TEST_MANAGED:3:10 ]]
        [[ "$output" =~ network.allow\ +localhost\ +user ]]
        [[ "$output" =~ filesystem.protect\ +corp\ +managed ]]
        [[ "$output" =~ filesystem.protect\ +keys\ +project ]]
        [[ "$output" =~ env\ +FROM_PROJECT=p\ +project ]]

        run ab run -w "$WS" --memory 512M --verbose --audit "$BATS_TEST_TMPDIR/a.jsonl" -- sh -c '
                echo "vars $FROM_USER $FROM_PROJECT"
                df -k /tmp | awk "NR == 2 {print \"tmp\", \$2}"
                grep "Max processes" /proc/self/limits
                touch keys/x 2>/dev/null && echo keys-writable
                touch corp/x 2>/dev/null && echo corp-writable
                '"$CURL"' -x http://127.0.0.1:3128 http://localhost:'"$PORT"'/
                '"$CURL"' -x http://127.0.0.1:3128 http://paste.example/ 2>&1 | head -c 300; echo'
        [ "$status" -eq 0 ]
        [[ "$output" == *"vars u p"* ]]
        [[ "$output" == *"tmp 65536"* ]]
        [[ "$output" =~ Max\ processes\ +300\ +300 ]]
        [[ "$output" != *keys-writable* ]]
        [[ "$output" != *corp-writable* ]]
        [[ "$output" == *"hello from the host"* ]]
        [[ "$output" == *"memory cap 512 MiB"* ]]
        if [ "$(id -u)" -eq 0 ]; then
                [[ "$output" == *"cpu cap 1.500 CPUs by cpu.max / cfs quota"* ]]
        else
                [[ "$output" == *"resources.cpus: no cpu cgroup"* ]]
        fi
        [[ "$output" == *"blocked http://paste.example:80 (matches network.deny paste.example (managed $AGENTBOX_TEST_MANAGED:3:10))"* ]]
        [ ! -e "$WS/keys/x" ]
}

@test "the managed ceiling holds: asking for more is an error naming both files, and run does not start" {
        policy_setup
        printf 'version: 1\nresources: {memory: 1G}\nnetwork:\n  mode: filtered\n  allow: ["*.corp.example"]\n' >"$AGENTBOX_TEST_MANAGED"
        printf 'version: 1\nnetwork:\n  allow: [evil.example]\n' >"$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" --memory 4G --net open -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [[ "$output" == *"resources.memory: 4G (command line) is above the ceiling 1G (managed $AGENTBOX_TEST_MANAGED:2:21)"* ]]
        [[ "$output" == *"network.allow evil.example (user $AGENTBOX_TEST_USER_CONFIG:3:11): not within the managed allowlist"* ]]
        [[ "$output" == *"network.mode open (command line)"* ]]
        [ ! -e "$WS/ran" ]
        run ab check -w "$WS"
        [ "$status" -eq 125 ]
        # a managed file others could change is no ceiling: refused
        printf 'version: 1\n' >"$AGENTBOX_TEST_MANAGED"
        chmod 666 "$AGENTBOX_TEST_MANAGED"
        rm "$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [[ "$output" == *"must be owned by root and writable by no one else"* ]]
        [ ! -e "$WS/ran" ]
}

@test "an untrusted project file cannot widen the box until agentbox trust approves that exact content" {
        policy_setup
        mkdir -p "$HOST_HOME_FAKE" 2>/dev/null || true
        echo "secret-value-$$" >"$BATS_TEST_TMPDIR/key"
        cat >"$WS/agentbox.yaml" <<EOF
version: 1
network:
  allow: [exfil.example]
filesystem:
  unprotect: [.vscode]
env:
  pass: [HOME]
secrets:
  TOKEN: {from: "file:$BATS_TEST_TMPDIR/key"}
EOF
        run ab run -w "$WS" -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [[ "$output" == *"would widen the box, and you have not trusted it"* ]]
        [[ "$output" == *"line 3: network.allow exfil.example"* ]]
        [[ "$output" == *"filesystem.unprotect .vscode"* ]]
        [[ "$output" == *"env.pass HOME"* ]]
        [[ "$output" == *"secrets.TOKEN from file:"* ]]
        [[ "$output" == *"agentbox trust $WS"* ]]
        [[ "$output" != *"secret-value"* ]]
        [ ! -e "$WS/ran" ]
        run ab check -w "$WS"
        [ "$status" -eq 0 ]
        [[ "$output" == *"NOT TRUSTED"* ]]
        [[ "$output" == *"TOKEN from file:"* ]]
        [[ "$output" != *"secret-value"* ]]
        run ab trust "$WS"
        [ "$status" -eq 0 ]
        [[ "$output" == *"trusted $WS/agentbox.yaml"* ]]
        run ab run -w "$WS" -- sh -c 'echo "token=$TOKEN"'
        [ "$status" -eq 0 ]
        [[ "$output" == *"token=secret-value-$$"* ]]
        # the box cannot change it (a protected path), and a change made
        # on the host needs approval again
        run ab run -w "$WS" -- sh -c 'echo "  deny: [x.example]" >> agentbox.yaml'
        [ "$status" -ne 0 ]
        echo "# changed" >>"$WS/agentbox.yaml"
        run ab run -w "$WS" -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"have not trusted it"* ]]
}

@test "a project file that only narrows needs no approval, and the box cannot create one" {
        policy_setup
        printf 'version: 1\nnetwork:\n  mode: "off"\nresources: {pids: 50}\n' >"$WS/agentbox.yaml"
        run ab run -w "$WS" -- sh -c 'grep "Max processes" /proc/self/limits; cat /proc/net/dev | grep -c :'
        [ "$status" -eq 0 ]
        [[ "$output" =~ Max\ processes\ +50\ +50 ]]
        rm "$WS/agentbox.yaml"
        run ab run -w "$WS" -- sh -c 'printf "version: 1\nnetwork: {allow: [x.example]}\n" > agentbox.yaml'
        [ "$status" -ne 0 ]
        [ ! -s "$WS/agentbox.yaml" ]
}

@test "every bad file is an error with file, line and column, all of them listed, exit 125" {
        policy_setup
        printf 'version: 1\nnetwrok: {}\n' >"$AGENTBOX_TEST_MANAGED"
        printf 'version: 1\nresources:\n  memory: lots\n' >"$AGENTBOX_TEST_USER_CONFIG"
        printf 'version: 1\nnetwork: {mode: open, mode: off}\n' >"$WS/agentbox.yaml"
        run ab check -w "$WS"
        [ "$status" -eq 125 ]
        [[ "$output" == *"$AGENTBOX_TEST_MANAGED:2:1: netwrok: unknown key"* ]]
        [[ "$output" == *"$AGENTBOX_TEST_USER_CONFIG:3:11: resources.memory lots: expected a size"* ]]
        [[ "$output" == *"$WS/agentbox.yaml:2:23: duplicate key \"mode\""* ]]
        run ab run -w "$WS" -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [ ! -e "$WS/ran" ]
        # a link is not followed to a policy, nor a FIFO waited on
        rm "$WS/agentbox.yaml"
        ln -s /etc/passwd "$WS/agentbox.yaml"
        run ab check -w "$WS"
        [ "$status" -eq 125 ]
        [[ "$output" == *"symbolic link"* ]]
        rm "$WS/agentbox.yaml"
        mkfifo "$WS/agentbox.yaml"
        run timeout 10 "$AB" check -w "$WS"
        [ "$status" -eq 125 ]
        [[ "$output" == *"not a regular file"* ]]
}

@test "check --json is one JSON document with every value and its source; --explain names the deciding line" {
        policy_setup
        printf 'version: 1\nnetwork:\n  allow: [api.example, "*.cdn.example"]\n  deny: [bad.cdn.example]\n' >"$AGENTBOX_TEST_USER_CONFIG"
        run --separate-stderr ab check -w "$WS" --json
        [ "$status" -eq 0 ]
        python3 - "$output" "$AGENTBOX_TEST_USER_CONFIG" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is True
allow = {a["value"]: a["from"] for a in d["network.allow"]}
assert allow["api.example"] == {"layer": "user", "file": sys.argv[2], "line": 3, "column": 11}, allow
assert d["values"]["network.mode"]["from"]["layer"] == "built-in"
assert any(p["value"] == ".git/hooks" for p in d["filesystem.protect"])
PY
        run ab check -w "$WS" --explain x.cdn.example
        [[ "$output" == *"allowed: x.cdn.example:443 is allowed by network.allow *.cdn.example (user $AGENTBOX_TEST_USER_CONFIG:3:24)"* ]]
        run ab check -w "$WS" --explain bad.cdn.example:443
        [[ "$output" == *"blocked: bad.cdn.example:443 is denied by network.deny bad.cdn.example (user $AGENTBOX_TEST_USER_CONFIG:4:10)"* ]]
        run ab check -w "$WS" --explain other.example
        [[ "$output" == *"blocked: other.example:443: no network.allow pattern names it"* ]]
        run ab check -w "$WS" --explain "$WS/.git/hooks/pre-commit"
        [[ "$output" == *"read-only: "*"a protected path by default"* ]]
        run ab check -w "$WS" --explain "$WS/src/main.c"
        [[ "$output" == *"read-write: "* ]]
        run ab check -w "$WS" --explain "$HOST_HOME/.ssh/id_rsa"
        [[ "$output" == *"hidden: "* ]]
}

@test "secrets come from the host's environment or a file into the box's environment, never printed" {
        policy_setup
        echo "from-a-file" >"$BATS_TEST_TMPDIR/k"
        printf 'version: 1\nsecrets:\n  A: {from: "env:AB_TEST_SECRET"}\n  B: {from: "file:%s"}\n' "$BATS_TEST_TMPDIR/k" >"$AGENTBOX_TEST_USER_CONFIG"
        AB_TEST_SECRET=from-the-env run ab run -w "$WS" --verbose -- sh -c 'echo "A=$A B=$B"'
        [ "$status" -eq 0 ]
        [[ "$output" == *"A=from-the-env B=from-a-file"* ]]
        [ "$(grep -c from-the-env <<<"$output")" -eq 1 ]
        run ab run -w "$WS" -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"secrets.A: AB_TEST_SECRET is not set in your environment"* ]]
}

@test "filesystem.mounts: read-only and read-write host paths in the box; credential stores and the box's own places refused" {
        policy_setup
        local src="$BATS_TEST_TMPDIR/share"
        mkdir -p "$src/ro" "$src/rw"
        echo "host data" >"$src/ro/f"
        cat >"$AGENTBOX_TEST_USER_CONFIG" <<EOF
version: 1
filesystem:
  mounts:
    - {source: $src/ro, target: /data}
    - {source: $src/rw, target: /rw, mode: rw}
EOF
        run ab run -w "$WS" --net off -- sh -c "cat /data/f; touch /data/x 2>&1; echo made >/rw/new && echo rw-ok; mkfifo /rw/fifo 2>/dev/null || echo no-fifo"
        [ "$status" -eq 0 ]
        [[ "$output" == *"host data"* ]]
        [[ "$output" == *"Read-only file system"* ]]
        [[ "$output" == *rw-ok* ]]
        [[ "$output" == *no-fifo* ]]
        [ "$(cat "$src/rw/new")" = made ]
        [ ! -e "$src/ro/x" ]
        [ ! -e "$src/rw/fifo" ]
        # a credential store, the host's /etc (what the box masks there),
        # a place over the box's own view or the workspace: refused
        mkdir -p "$HOST_HOME/.ssh" 2>/dev/null || true
        local bad
        for bad in "{source: ~/.ssh}" "{source: /etc}" "{source: /run}" \
                "{source: $src/ro, target: /usr/local}" \
                "{source: $src/ro, target: $WS/sub}" "{source: $WS}" \
                "{source: $src/nothing-there}"; do
                printf 'version: 1\nfilesystem:\n  mounts: [%s]\n' "$bad" >"$AGENTBOX_TEST_USER_CONFIG"
                run ab run -w "$WS" --net off -- touch "$WS/ran"
                [ "$status" -eq 125 ] || { echo "$bad was not refused: $output"; return 1; }
                [[ "$output" == *"filesystem.mounts"* ]]
                [ ! -e "$WS/ran" ]
        done
}

@test "keys this version does not have are errors, never ignored" {
        policy_setup
        printf 'version: 1\nisolation: vm\n' >"$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [[ "$output" == *"not available in this version"* ]]
        printf 'version: 1\nagent: {name: claude, model: opus}\n' >"$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [[ "$output" == *"agent.model: unknown key"* ]]
        printf 'version: 1\nsecrets:\n  K: {from: "env:K", inject: {host: a.example}}\n' >"$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" -- touch "$WS/ran"
        [ "$status" -eq 125 ]
        [[ "$output" == *"credential injection is not available"* ]]
        [ ! -e "$WS/ran" ]
}

@test "a newcomer: agentbox init in a node project, then agentbox run -- npm install works with no flags (a local registry)" {
        policy_setup
        command -v npm >/dev/null || { echo "npm is needed (scripts/install-deps installs it)" >&2; return 1; }
        loop_name
        PORT=$(free_port)
        python3 "$BATS_TEST_DIRNAME/npm_registry.py" "$NAME" "$NAME_ADDR" "$PORT" "$BATS_TEST_TMPDIR/registry.log" &
        CLEANUP+=("kill $!")
        wait_port "$NAME_ADDR" "$PORT"
        # this user's npm is configured for the local registry (as a
        # company mirror would be); the test never reaches any other
        printf 'registry=http://%s:%s/\n' "$NAME" "$PORT" >"$BATS_TEST_TMPDIR/npmrc"
        export NPM_CONFIG_USERCONFIG="$BATS_TEST_TMPDIR/npmrc"
        echo "# registry used: a local one on $NAME:$PORT (never the configured public one)" >&3
        printf '{"name": "newcomer", "version": "1.0.0"}\n' >"$WS/package.json"
        run ab init -w "$WS"
        [ "$status" -eq 0 ]
        [[ "$output" == *"wrote $WS/agentbox.yaml (node)"* ]]
        [[ "$output" == *"allows $NAME:$PORT"* ]]
        grep -q "NPM_CONFIG_REGISTRY: \"http://$NAME:$PORT/\"" "$WS/agentbox.yaml"
        run ab check -w "$WS"
        [ "$status" -eq 0 ]
        [[ "$output" == *"(trusted)"* ]]
        # the one command
        cd "$WS"
        run ab run -- npm install --no-audit --no-fund tiny-pkg
        [ "$status" -eq 0 ] || { echo "$output"; return 1; }
        [ "$(cat "$WS/node_modules/tiny-pkg/package.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" = 1.0.0 ]
        grep -q '^/tiny-pkg$' "$BATS_TEST_TMPDIR/registry.log"
        grep -q 'tiny-pkg-1.0.0.tgz' "$BATS_TEST_TMPDIR/registry.log"
        # the cache is agentbox's own, not this user's ~/.npm
        [ -n "$(ls -A "$AGENTBOX_TEST_STATE/cache/npm")" ]
        # never overwritten without --force
        run ab init -w "$WS"
        [ "$status" -eq 125 ]
        [[ "$output" == *"--force"* ]]
        run ab init --force -w "$WS"
        [ "$status" -eq 0 ]
}

@test "init reads no registry from the project: a hostile repository's .npmrc chooses nothing" {
        policy_setup
        command -v npm >/dev/null || return 1
        printf 'registry=https://exfil.example/\n' >"$BATS_TEST_TMPDIR/npmrc-user"
        printf 'registry=http://evil.example/\n' >"$WS/.npmrc"
        printf '{"name": "x", "version": "1.0.0"}\n' >"$WS/package.json"
        NPM_CONFIG_USERCONFIG="$BATS_TEST_TMPDIR/npmrc-user" run ab init -w "$WS"
        [ "$status" -eq 0 ]
        ! grep -q evil.example "$WS/agentbox.yaml"
        grep -q exfil.example "$WS/agentbox.yaml"
        for t in python go ruby rust java git minimal; do
                run ab init --force -w "$WS" "$t"
                [ "$status" -eq 0 ] || { echo "$t: $output"; return 1; }
                run ab check -w "$WS"
                [ "$status" -eq 0 ] || { echo "$t: $output"; return 1; }
        done
}

@test "a managed cap the host cannot hold stops the box (an ordinary user here has no cgroup); root's is held" {
        policy_setup
        printf 'version: 1\nresources: {cpus: 0.5, memory: 512M}\n' >"$AGENTBOX_TEST_MANAGED"
        run ab run -w "$WS" --net off -- sh -c 'echo ran'
        if [ "$(id -u)" -eq 0 ]; then
                [ "$status" -eq 0 ]
                [[ "$output" == *ran* ]]
        else
                [ "$status" -eq 125 ]
                [[ "$output" == *"resources.memory (managed $AGENTBOX_TEST_MANAGED:2:32)"*"does not start"* ]]
                [[ "$output" != *ran* ]]
        fi
}

@test "what a policy file says is printed with its control bytes escaped, never to the terminal raw" {
        policy_setup
        printf 'version: 1\nenv:\n  set: {LANG: "C\\e[3A\\r\\e[J fake\\n"}\n' >"$WS/agentbox.yaml"
        run ab check -w "$WS"
        [ "$status" -eq 0 ]
        [[ "$output" != *$'\e'* ]]
        [[ "$output" == *'LANG=C\x1b[3A\x0d\x1b[J fake\x0a'* ]]
        printf 'version: 1\nnetwork:\n  allow: ["\\e[2Jx.example"]\n' >"$WS/agentbox.yaml"
        run ab check -w "$WS"
        [ "$status" -eq 125 ]
        [[ "$output" != *$'\e'* ]]
        [[ "$output" == *'\x1b[2Jx.example'* ]]
        run ab run -w "$WS" -- true
        [ "$status" -eq 125 ]
        [[ "$output" != *$'\e'* ]]
}

@test "a policy file the box wrote below its workspace is not vouched for by a trust: tree" {
        policy_setup
        printf 'version: 1\ntrust: [%s]\n' "$WS" >"$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" --net off -- sh -c 'mkdir sub && printf "version: 1\nenv: {pass: [HOSTVAR]}\n" > sub/agentbox.yaml'
        [ "$status" -eq 0 ]
        HOSTVAR=host-secret run ab run -w "$WS/sub" --net off -- sh -c 'echo "got $HOSTVAR"'
        [ "$status" -eq 125 ]
        [[ "$output" == *"have not trusted it"* ]]
        [[ "$output" != *host-secret* ]]
        # approved by hand, it works
        run ab trust "$WS/sub"
        [ "$status" -eq 0 ]
        HOSTVAR=host-secret run ab run -w "$WS/sub" --net off -- sh -c 'echo "got $HOSTVAR"'
        [ "$status" -eq 0 ]
        [[ "$output" == *"got host-secret"* ]]
}

@test "filesystem.mounts: no socket, submount, link or shared directory of another user gets in; read-write ones stay out of the scratch space" {
        policy_setup
        local src="$BATS_TEST_TMPDIR/m"
        mkdir -p "$src/a" "$src/b"
        python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$src/b/agent.sock"
        bad() {
                printf 'version: 1\nfilesystem:\n  mounts: [%s]\n' "$1" >"$AGENTBOX_TEST_USER_CONFIG"
                run ab run -w "$WS" --net off -- touch "$WS/ran"
                [ "$status" -eq 125 ] || { echo "$1 was not refused: $output" >&2; return 1; }
                [[ "$output" == *"$2"* ]] || { echo "$1: $output" >&2; return 1; }
                [ ! -e "$WS/ran" ]
        }
        # a read-write one in the home: no FIFO or socket there either
        printf 'version: 1\nfilesystem:\n  mounts: [{source: %s, target: /home/agent/c, mode: rw}]\n' "$src/a" >"$AGENTBOX_TEST_USER_CONFIG"
        run ab run -w "$WS" --net off -- sh -c 'mkfifo /home/agent/c/f 2>/dev/null || echo no-fifo; echo x > /home/agent/c/file && echo rw-ok'
        [ "$status" -eq 0 ]
        [[ "$output" == *no-fifo*rw-ok* ]]
        [ ! -e "$src/a/f" ]
        bad "{source: $src/b}" "holds the unix socket agent.sock"
        bad "{source: /tmp}" "/tmp"
        bad "{source: $src/a, target: /tmp/a, mode: rw}" "may not be placed in /tmp"
        bad "{source: $src/a, target: /home}" "cover the box's whole home"
        bad "{source: $src/a, target: /data}, {source: $src/b, target: /data/x}" "another mount"
        if [ "$(id -u)" -eq 0 ]; then
                # a link on the way, or a directory of another user's
                ln -s "$src/a" "$src/link"
                bad "{source: $src/link}" "symbolic link"
                mkdir -p "$src/theirs/d"
                chown -R nobody "$src/theirs"
                bad "{source: $src/theirs/d, target: /data, mode: rw}" "neither root nor the workspace's owner"
                # what is mounted below a source stays out
                mkdir -p "$src/a/sub" "$BATS_TEST_TMPDIR/secret"
                echo key >"$BATS_TEST_TMPDIR/secret/id"
                mount --bind "$BATS_TEST_TMPDIR/secret" "$src/a/sub"
                CLEANUP+=("umount $src/a/sub")
                printf 'version: 1\nfilesystem:\n  mounts: [{source: %s, target: /data}]\n' "$src/a" >"$AGENTBOX_TEST_USER_CONFIG"
                run ab run -w "$WS" --net off -- sh -c 'ls /data/sub; cat /data/sub/id 2>&1 || echo not-there'
                [ "$status" -eq 0 ]
                [[ "$output" == *not-there* ]]
                [[ "$output" != *key* ]]
        fi
}
