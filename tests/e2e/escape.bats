#!/usr/bin/env bats
# Escapes the box must stop.  Each test runs the probe inside a box and
# checks both what the probe saw and that the host saw nothing.

load helpers

# start_listener KIND ADDR: a host listener in the background; sets LOG.
start_listener() {
        LOG="$BATS_TEST_TMPDIR/listener.log"
        local ready="$BATS_TEST_TMPDIR/listener.ready"
        python3 "$BATS_TEST_DIRNAME/listen.py" "$1" "$2" "$LOG" >"$ready" &
        local pid=$!
        CLEANUP+=("kill $pid")
        for _ in $(seq 100); do
                [ -s "$ready" ] && return 0
                sleep 0.05
        done
        echo "listener did not start" >&2
        return 1
}

@test "the agent is uid 1000 and the user's ssh key does not exist" {
        run box -- sh -c 'id; cat ~/.ssh/id_rsa'
        [ "$status" -ne 0 ]
        [[ "$output" == *"uid=1000(agent) gid=1000(agent)"* ]]
        [[ "$output" == *"No such file or directory"* ]]
}

@test "planted ~/.ssh and ~/.aws secrets of the invoking user are invisible" {
        local tag="agentbox-canary-$$-$RANDOM"
        mkdir -p "$HOST_HOME/.ssh" "$HOST_HOME/.aws"
        echo "PRIVATE $tag" >"$HOST_HOME/.ssh/$tag"
        echo "aws_secret_access_key=$tag" >"$HOST_HOME/.aws/$tag"
        CLEANUP+=("rm -f '$HOST_HOME/.ssh/$tag' '$HOST_HOME/.aws/$tag'")
        run probe read "$HOST_HOME/.ssh/$tag"
        assert_blocked
        run probe read "$HOST_HOME/.aws/$tag"
        assert_blocked
        run probe ls "$HOST_HOME"
        [ "$HOST_HOME" = / ] || assert_blocked
        run box -- sh -c "grep -rsD skip '$tag' /home /tmp /var /etc /opt /root 2>/dev/null | head -1"
        [[ "$output" != *"$tag"* ]]
}

@test "a workspace under the home shows only itself, not the home" {
        local tag="agentbox-canary-$$-$RANDOM"
        mkdir -p "$HOST_HOME/.ssh"
        echo "PRIVATE $tag" >"$HOST_HOME/.ssh/$tag"
        local ws
        ws=$(mktemp -d "$HOST_HOME/abws.XXXXXX")
        CLEANUP+=("rm -rf '$ws' '$HOST_HOME/.ssh/$tag'")
        cp "$PROBE_BIN" "$ws/probe"
        run "$AGENTBOX" run --workspace "$ws" -- ./probe read "$HOST_HOME/.ssh/$tag"
        assert_blocked
        run "$AGENTBOX" run --workspace "$ws" -- ls -A "$HOST_HOME"
        [ "$status" -eq 0 ]
        [ "$output" = "$(basename "$ws")" ]
}

@test "the home directory itself is refused as a workspace" {
        run "$AGENTBOX" run --workspace "$HOST_HOME" -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"contains the home directory"* ]]
}

@test "writes outside the workspace fail or stay in the box" {
        for p in /usr/agentbox-x /etc/agentbox-x /agentbox-x /home/agentbox-x \
                 /var/agentbox-x /dev/agentbox-x /proc/agentbox-x; do
                run probe write "$p"
                assert_blocked
        done
        local tag="agentbox-canary-$$-$RANDOM"
        run probe write "/tmp/$tag"
        assert_escaped
        run probe write "/var/tmp/$tag"
        assert_escaped
        [ ! -e "/tmp/$tag" ]
        [ ! -e "/var/tmp/$tag" ]
        run probe write "$WS/$tag"
        assert_escaped
        [ -f "$WS/$tag" ]
        [ "$(stat -c %u "$WS/$tag")" = "$(stat -c %u "$WS")" ]
}

@test "Landlock stops a write the mounts alone would allow" {
        # /proc/self/comm is the agent's own and mode 0644: only Landlock
        # stands in the way.
        run probe write /proc/self/comm
        assert_blocked
        [[ "$output" == *"Permission denied"* ]]
}

@test "root-only files stay unreadable, whoever invokes agentbox" {
        # As root the agent must not be host root by ownership: plant a
        # root-only file in /etc (visible in the box) and try to read it.
        local f=/etc/shadow
        if [ "$(id -u)" = 0 ]; then
                f="/etc/agentbox-test-secret-$$-$RANDOM"
                (umask 077; echo "secret" >"$f")
                CLEANUP+=("rm -f '$f'")
        fi
        run probe read "$f"
        assert_blocked
        run probe write "$f"
        assert_blocked
}

@test "/etc/shadow and /etc/ssl/private are unreadable" {
        run probe read /etc/shadow
        assert_blocked
        run probe ls /etc/ssl/private
        assert_blocked
        run probe read /etc/gshadow
        assert_blocked
}

@test "host processes can be neither seen, signalled nor traced" {
        sleep 300 &
        local victim=$!
        CLEANUP+=("kill $victim")
        run probe kill "$victim"
        assert_blocked
        run probe ptrace "$victim"
        assert_blocked
        kill -0 "$victim"
        run box -- sh -c 'ls /proc | grep -c "^[0-9]"'
        [ "$output" -le 4 ]
}

@test "the box's init cannot be traced and does not leak the host environment" {
        export AGENTBOX_TEST_SECRET="s3cret-$RANDOM"
        run probe read /proc/1/environ
        assert_blocked
        run probe ptrace 1
        assert_blocked
        run box -- sh -c 'cat /proc/*/environ 2>/dev/null | tr "\0" "\n"'
        [[ "$output" != *"$AGENTBOX_TEST_SECRET"* ]]
}

@test "a planted secret in the caller's environment is absent inside" {
        export AGENTBOX_TEST_SECRET="s3cret-$RANDOM"
        run probe env AGENTBOX_TEST_SECRET
        [ "$status" -eq 1 ]
        [[ "$output" == *"(unset)"* ]]
        run box -- env
        [[ "$output" != *"$AGENTBOX_TEST_SECRET"* ]]
        [[ "$output" == *"AGENT_SANDBOX=1"* ]]
        [[ "$output" == *"IS_SANDBOX=1"* ]]
        [[ "$output" == *"HOME=/home/agent"* ]]
        run box --env AGENTBOX_TEST_SECRET -- ./probe env AGENTBOX_TEST_SECRET
        [[ "$output" == *"$AGENTBOX_TEST_SECRET"* ]]
        run box --env FOO=bar -- ./probe env FOO
        [[ "$output" == *"FOO=bar"* ]]
}

@test "a host unix socket by path cannot be reached" {
        local sock="/tmp/agentbox-test-$$-$RANDOM.sock"
        CLEANUP+=("rm -f '$sock'")
        start_listener unix "$sock"
        run probe unix "$sock"
        assert_blocked
        [ ! -s "$LOG" ]
}

@test "a host abstract unix socket cannot be reached" {
        local name="agentbox-test-$$-$RANDOM"
        start_listener abstract "$name"
        run probe abstract "$name"
        assert_blocked
        [ ! -s "$LOG" ]
}

@test "a direct IP connection to a host listener fails and the host sees nothing" {
        local port
        port=$(free_port)
        start_listener tcp "127.0.0.1:$port"
        run probe tcp 127.0.0.1 "$port"
        assert_blocked
        start_listener udp "127.0.0.1:$port"
        run probe udp 127.0.0.1 "$port"
        sleep 0.2
        [ ! -s "$LOG" ]
        run probe ifaces
        [ "$output" = "IFACE lo" ]
}

@test "TIOCSTI cannot push input into the caller's terminal" {
        run script -qec "$AGENTBOX run --workspace $WS -- ./probe tiocsti" /dev/null
        [[ "$output" == *"BLOCKED TIOCSTI"* ]]
}

@test "mounts, new namespaces and kernel interfaces are refused" {
        for t in mount unshare-user unshare-mnt clone-user bpf keyctl personality; do
                run probe "$t"
                assert_blocked
        done
}

@test "the pids cap holds" {
        run box --pids 20 -- ./probe forks 200
        [ "$status" -eq 0 ]
        local n=${output##*FORKED }
        [ "$n" -lt 20 ]
        [ "$n" -gt 5 ]
}

@test "the pids cap uses a cgroup as root and the user namespace otherwise; root maps to nobody" {
        run box --verbose --pids 30 -- true
        [ "$status" -eq 0 ]
        if [ "$(id -u)" = 0 ]; then
                [[ "$output" == *"pids cap 30 by /sys/fs/cgroup/"* ]]
                # a root-owned workspace: the agent is not host root
                [[ "$output" == *"agent is host uid 65534 gid 65534, workspace idmapped"* ]]
        else
                [[ "$output" == *"pids cap 30 by RLIMIT_NPROC"* ]]
        fi
}

@test "no host file descriptor follows the command into the box" {
        run box -- ./probe fds 5<"$HOST_HOME" 6<"$WS"
        [[ "$output" == *"FDS 0"* ]]
}

@test "a directory as standard input is refused" {
        run box -- true <"$HOST_HOME"
        [ "$status" -eq 125 ]
        [[ "$output" == *"standard input is a directory"* ]]
}

@test "the agent cannot plant setuid or setgid files for the host" {
        run box -- sh -c 'cp /bin/sh suid && chmod u+s suid'
        [ "$status" -ne 0 ]
        [ ! -u "$WS/suid" ]
        run box -- sh -c 'cp /bin/sh sgid && chmod g+s sgid'
        [ "$status" -ne 0 ]
        [ ! -g "$WS/sgid" ]
        run box -- python3 -c 'import os; os.open("s2", os.O_CREAT|os.O_WRONLY, 0o4755)'
        [ "$status" -ne 0 ]
        [ ! -u "$WS/s2" ]
}

@test "socket families beyond unix and IP are refused (no vsock to the VM host)" {
        for fam in 40 38 31 0; do   # AF_VSOCK AF_ALG AF_BLUETOOTH AF_UNSPEC
                run probe socket "$fam"
                assert_blocked
        done
}

@test "host device nodes cannot be changed" {
        local before
        before=$(stat -c %a:%Y /dev/null)
        run box -- sh -c 'chmod 600 /dev/null; touch /dev/null; echo ok >/dev/null && echo still-works'
        [[ "$output" == *still-works* ]]
        [ "$(stat -c %a:%Y /dev/null)" = "$before" ]
}

@test "the box's init does not show agentbox's command line" {
        run box --env AB_VALUE=s3cret-cmdline -- sh -c 'tr "\0" " " </proc/1/cmdline'
        [ "$status" -eq 0 ]
        [[ "$output" != *s3cret-cmdline* ]]
        [[ "$output" != *agentbox* ]]
}

@test "shared directories and hidden home directories are refused as workspaces" {
        for d in /tmp /var /var/tmp; do
                run "$AGENTBOX" run --workspace "$d" -- true
                [ "$status" -eq 125 ]
                [[ "$output" == *"share"* ]]
        done
        mkdir -p "$HOST_HOME/.agentbox-test-hidden"
        CLEANUP+=("rmdir '$HOST_HOME/.agentbox-test-hidden'")
        run "$AGENTBOX" run --workspace "$HOST_HOME/.agentbox-test-hidden" -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"hidden directory"* ]]
}

@test "as root, no symlink is followed to the workspace, not even root's own" {
        local d
        d=$(mktemp -d "${TMPDIR:-/tmp}/abln.XXXXXX")
        CLEANUP+=("rm -rf '$d'")
        ln -s "$WS" "$d/link"
        if [ "$(id -u)" = 0 ]; then
                # root's own link too: a box run by root on a root-owned
                # workspace makes root-owned links
                for owner in 65534:65534 0:0; do
                        chown -h "$owner" "$d/link"
                        run "$AGENTBOX" run --workspace "$d/link" -- true
                        [ "$status" -eq 125 ]
                        [[ "$output" == *"passes through the symlink $d/link"* ]]
                done
                # a link the box itself made in a root-owned workspace
                run box -- ln -s /root "$WS/up"
                [ "$status" -eq 0 ]
                [ "$(stat -c %u "$WS/up")" = 0 ]
                run "$AGENTBOX" run --workspace "$WS/up" -- true
                [ "$status" -eq 125 ]
                [[ "$output" == *"symlink"* ]]
        else
                # an ordinary user's own symlink is fine
                run "$AGENTBOX" run --verbose --workspace "$d/link" -- pwd
                [ "$status" -eq 0 ]
                [[ "$output" == *"$WS"* ]]
        fi
}

@test "as root, swapping a workspace component for a link while the box starts never mounts what the link points at" {
        # Only root can be escalated against; an ordinary user's race is
        # with themselves (the CI runs this file as root too).
        [ "$(id -u)" = 0 ] || return 0
        local d secret
        d=$(mktemp -d "${TMPDIR:-/tmp}/abrace.XXXXXX")
        secret=$(mktemp -d /root/abrace-secret.XXXXXX)
        CLEANUP+=("rm -rf '$d' '$secret'")
        chmod 700 "$secret"
        echo canary >"$secret/ROOT-CANARY"
        chown 65534:65534 "$d"
        mkdir "$d/ws"
        chown 65534:65534 "$d/ws"
        ln -s "$secret" "$d/other"
        "$PROBE_BIN" swap "$d/ws" "$d/other" &
        local racer=$!
        CLEANUP+=("kill $racer")
        local i seen=0 ran=0
        for i in $(seq 300); do
                if out=$("$AGENTBOX" run --net off --workspace "$d/ws" -- ls 2>&1); then
                        ran=$((ran + 1))
                fi
                [[ "$out" == *ROOT-CANARY* ]] && seen=$((seen + 1))
        done
        kill "$racer"
        echo "runs that started: $ran of 300; saw root's directory: $seen" >&3
        [ "$seen" -eq 0 ]
        [ "$ran" -gt 0 ]
}

@test "workspaces where root's own tools keep what they run are refused, also through a link" {
        run "$AGENTBOX" run --workspace /var/lib/dpkg -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"inside /var/lib"* ]]
        local d
        d=$(mktemp -d "${TMPDIR:-/tmp}/abln.XXXXXX")
        CLEANUP+=("rm -rf '$d'")
        ln -s /var/lib/dpkg "$d/link"
        run "$AGENTBOX" run --workspace "$d/link" -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"/var/lib"* || "$output" == *"symlink"* ]]
}

@test "as root, a root-owned workspace without idmapped mounts is refused" {
        if [ "$(id -u)" = 0 ]; then
                run unshare -m sh -c "mount -t ramfs none '$WS' && cd '$WS' && '$AGENTBOX' run --net off -- true"
                [ "$status" -eq 125 ]
                [[ "$output" == *"would be host root by ownership"* ]]
        else
                # the agent maps to the invoking user, whatever the filesystem
                run box -- sh -c 'touch mine && echo ok'
                [ "$status" -eq 0 ]
                [ "$(stat -c %u "$WS/mine")" = "$(id -u)" ]
        fi
}

@test "as root, the default audit log is root's own: a user's HOME with a linked state directory is not followed" {
        # sudo -E keeps the user's HOME; root must not write where the
        # user's link points
        [ "$(id -u)" = 0 ] || return 0
        local home target
        home=$(mktemp -d "${TMPDIR:-/tmp}/abhome.XXXXXX")
        target=$(mktemp -u /etc/abaudit.XXXXXX)
        CLEANUP+=("rm -rf '$home' '$target'")
        mkdir -p "$home/.local/state"
        ln -s "$target" "$home/.local/state/agentbox"
        HOME=$home XDG_STATE_HOME=$home/.local/state run box -- true
        [ "$status" -eq 0 ]
        [ ! -e "$target" ]
}
