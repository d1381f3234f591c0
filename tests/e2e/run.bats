#!/usr/bin/env bats
# agentbox run: exit statuses, signals, lifetime, messages.

bats_require_minimum_version 1.5.0
load helpers

@test "exit status is the command's" {
        run box -- sh -c 'exit 3'
        [ "$status" -eq 3 ]
}

@test "127 when the command is not found, with a message" {
        run -127 box -- no-such-command-here
        [ "$status" -eq 127 ]
        [[ "$output" == *"no-such-command-here: command not found inside the box"* ]]
}

@test "126 when the command is not executable" {
        echo 'x' >"$WS/notexec"
        run -126 box -- ./notexec
        [ "$status" -eq 126 ]
        [[ "$output" == *"cannot run ./notexec"* ]]
}

@test "the command starts with every signal at its default and none blocked, whatever the caller ignored" {
        # a caller that ignores signals (nohup, a shell's background job)
        run bash -c 'trap "" INT HUP QUIT USR1 PIPE; exec "$0" run --workspace "$1" -- grep -E "^Sig(Blk|Ign)" /proc/self/status' "$AGENTBOX" "$WS"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "SigBlk:	0000000000000000" ]
        [ "${lines[1]}" = "SigIgn:	0000000000000000" ]
}

@test "the command is a session leader of its own, with no controlling terminal" {
        run box -- sh -c 'ps -o sid= -o pid= -p $$ 2>/dev/null || awk "{print \$6, \$1}" /proc/$$/stat; cat /proc/$$/stat | awk "{print \$7}"'
        [ "$status" -eq 0 ]
        set -- ${lines[0]}
        [ "$1" = "$2" ]
        [ "${lines[1]}" = 0 ]
}

@test "128+N when the command dies of signal N" {
        run box -- sh -c 'kill -TERM $$'
        [ "$status" -eq 143 ]
}

@test "SIGTERM to agentbox reaches the command" {
        "$AGENTBOX" run --workspace "$WS" -- sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done' >"$WS/out" 2>&1 &
        local pid=$! st=0
        for _ in $(seq 100); do grep -q ready "$WS/out" && break; sleep 0.05; done
        kill -TERM "$pid"
        wait "$pid" || st=$?
        [ "$st" -eq 7 ]
        grep -q got-term "$WS/out"
}

# kill_and_check SHELLCMD: start a box running SHELLCMD (with $secs in it),
# SIGKILL agentbox, and check none of the box's processes survive.
kill_and_check() {
        "$AGENTBOX" run --workspace "$WS" -- sh -c "$1" &
        local pid=$!
        for _ in $(seq 100); do pgrep -f "sleep $secs" >/dev/null && break; sleep 0.05; done
        pgrep -f "sleep $secs" >/dev/null
        kill -KILL "$pid"
        for _ in $(seq 100); do pgrep -f "sleep $secs" >/dev/null || break; sleep 0.05; done
        ! pgrep -f "sleep $secs"
}

@test "killing agentbox kills the whole box" {
        secs=$((100000 + RANDOM))
        kill_and_check "sleep $secs & sleep $secs"
}

@test "killing agentbox kills the box when root maps to another owner" {
        # Changing credentials clears the parent-death signal; it must be
        # set again after the switch.
        if [ "$(id -u)" = 0 ]; then
                chown 65534:65534 "$WS"
        fi
        secs=$((100000 + RANDOM))
        kill_and_check "sleep $secs"
}

@test "zombies are reaped by the box's init" {
        run box -- sh -c '(sh -c "exit 0" &) ; sleep 0.2; ps -eo stat= | grep -c Z || true'
        [ "$status" -eq 0 ]
        [[ "${lines[-1]}" == 0 ]]
}

@test "the box has a hostname, passwd entry and private home" {
        run box -- sh -c 'hostname; getent passwd agent; echo $HOME; touch ~/x && ls ~'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = agentbox ]
        [[ "${lines[1]}" == agent:x:1000:1000:* ]]
        [ "${lines[2]}" = /home/agent ]
        [ "${lines[3]}" = x ]
}

@test "cwd is the workspace" {
        run box -- pwd
        [ "$output" = "$WS" ]
}

@test "bad options give a clear error and 125" {
        run "$AGENTBOX" run --pids 0 -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"--pids 0: expected a whole number"* ]]
        run "$AGENTBOX" run --allow '*.com' -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"public suffix"* ]]
        run "$AGENTBOX" run --workspace /nonexistent -- true
        [ "$status" -eq 125 ]
        [[ "$output" == *"workspace /nonexistent"* ]]
        run "$AGENTBOX" run --workspace /usr -- true
        [ "$status" -eq 125 ]
        run "$AGENTBOX" run
        [ "$status" -eq 125 ]
        [[ "$output" == *"no command given"* ]]
        run "$AGENTBOX" frobnicate
        [ "$status" -eq 125 ]
}

@test "help and version" {
        run "$AGENTBOX" run --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"Usage: agentbox run"* ]]
        run "$AGENTBOX" --version
        [ "$status" -eq 0 ]
        [[ "$output" == "agentbox "* ]]
}

@test "/dev has a working pty and /dev/null" {
        run box -- sh -c 'echo hi >/dev/null && python3 -c "import os,pty; m,s=pty.openpty(); print(os.ttyname(s))"'
        [ "$status" -eq 0 ]
        [[ "$output" == /dev/pts/* ]]
}
