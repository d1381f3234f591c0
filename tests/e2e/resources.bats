#!/usr/bin/env bats
# Host resources: a box cannot use up what it shares with the user who
# runs agentbox.  The box takes all it can; a host process of the same
# user, checked meanwhile from outside, still gets its own.

bats_require_minimum_version 1.5.0
load helpers

# hog: in the box, take inotify watches and instances and queued signals
# until refused, say how many, and hold them.
hog() {
        cat >"$WS/hog.py" <<'PY'
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
got = {}
# watches first (they need an instance): distinct inodes in /tmp
ino = libc.inotify_init1(0)
os.makedirs("/tmp/w", exist_ok=True)
n = 0
while n < 400000:
    p = "/tmp/w/%d" % n
    open(p, "w").close()
    if libc.inotify_add_watch(ino, p.encode(), 0x2) < 0:
        break
    n += 1
got["watches"] = n
inst = [ino]
while len(inst) < 100000:
    fd = libc.inotify_init1(0)
    if fd < 0:
        break
    inst.append(fd)
got["instances"] = len(inst)
class sigval(ctypes.Union):
    _fields_ = [("sival_int", ctypes.c_int), ("sival_ptr", ctypes.c_void_p)]
sig = signal.SIGRTMIN + 2
signal.pthread_sigmask(signal.SIG_BLOCK, [sig])
q = 0
while q < 200000 and libc.sigqueue(os.getpid(), sig, sigval(1)) == 0:
    q += 1
got["signals"] = q
out = os.open("held.tmp", os.O_WRONLY | os.O_CREAT)
fds = 0
try:
    while fds < 1000000:
        os.open("/dev/null", os.O_RDONLY)
        fds += 1
except OSError:
    pass
got["files"] = fds
os.write(out, " ".join("%s=%d" % kv for kv in sorted(got.items())).encode())
os.rename("held.tmp", "held")
time.sleep(120)
PY
}

# host_can: as this user, on the host: an inotify instance with a watch, a
# queued signal, files.
host_can() {
        python3 - <<'PY'
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert fd >= 0, ("inotify_init1", os.strerror(ctypes.get_errno()))
assert libc.inotify_add_watch(fd, b"/", 0x2) >= 0, ("inotify_add_watch", os.strerror(ctypes.get_errno()))
class sigval(ctypes.Union):
    _fields_ = [("sival_int", ctypes.c_int), ("sival_ptr", ctypes.c_void_p)]
sig = signal.SIGRTMIN + 3
signal.pthread_sigmask(signal.SIG_BLOCK, [sig])
for i in range(100):
    assert libc.sigqueue(os.getpid(), sig, sigval(i)) == 0, ("sigqueue", os.strerror(ctypes.get_errno()))
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(500)]
print("host ok")
PY
}

@test "a box that takes all the inotify instances and watches and queued signals it can leaves the invoking user theirs" {
        hog
        box --net off -- python3 hog.py &
        local pid=$!
        CLEANUP+=("kill $pid")
        for _ in $(seq 300); do [ -s "$WS/held" ] && break; sleep 0.1; done
        cat "$WS/held"
        [ -s "$WS/held" ]
        run host_can
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"host ok"* ]]
        # and the box was refused well before the user's own limits
        local held; held=$(cat "$WS/held")
        local inst=${held#*instances=}; inst=${inst%% *}
        local watches=${held#*watches=}; watches=${watches%% *}
        local signals=${held#*signals=}; signals=${signals%% *}
        local files=${held#*files=}; files=${files%% *}
        [ "$inst" -le $(( $(cat /proc/sys/user/max_inotify_instances) / 4 )) ]
        [ "$watches" -le $(( $(cat /proc/sys/user/max_inotify_watches) / 4 )) ]
        [ "$signals" -le $(( $(ulimit -Hi) / 4 )) ]
        [ "$files" -le 8192 ]
}

@test "the box sees its cgroup as its root, never agentbox's host pid" {
        run box --net off -- cat /proc/self/cgroup
        [ "$status" -eq 0 ]
        [[ "$output" != *agentbox* ]]
        while read -r line; do
                [ "${line##*:}" = / ]
        done <<<"$output"
}

@test "the box learns neither the host's machine id, boot id nor boot line, and has no modify_ldt" {
        run box --net off -- sh -c 'cat /etc/machine-id /proc/sys/kernel/random/boot_id; echo "[$(cat /proc/cmdline)]"; python3 -c "import ctypes, os; l = ctypes.CDLL(None, use_errno=True); r = l.syscall(154, 0, 0, 0); print(r, os.strerror(ctypes.get_errno()))"'
        [ "$status" -eq 0 ]
        echo "$output"
        [ "${#lines[0]}" -eq 32 ]
        if [ -f /etc/machine-id ]; then [ "${lines[0]}" != "$(cat /etc/machine-id)" ]; fi
        [ "${lines[1]}" != "$(cat /proc/sys/kernel/random/boot_id)" ]
        [[ "${lines[1]}" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
        [ "${lines[2]}" = "[]" ]
        [ "${lines[3]}" = "-1 Operation not permitted" ]
        # a second box: other ids
        local first=${lines[0]}
        run box --net off -- cat /etc/machine-id
        [ "$output" != "$first" ]
}

@test "kill -9 of agentbox leaves no cgroup behind once the next box starts" {
        "$AGENTBOX" run --workspace "$WS" --net off -- sleep 30 &
        local pid=$!
        CLEANUP+=("kill -9 $pid")
        sleep 1
        # this box's: named after its init, agentbox's child (other runs
        # on the machine have theirs)
        local cg="" c
        for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
                cg+=" $(ls -d /sys/fs/cgroup/pids/agentbox-"$c" /sys/fs/cgroup/agentbox-"$c" 2>/dev/null || true)"
        done
        cg=$(echo $cg)
        if [ "$(id -u)" -ne 0 ]; then
                # an ordinary user here gets no cgroup at all: nothing to leave
                run box --net off --verbose -- true
                [[ "$output" == *"by RLIMIT_NPROC"* ]]
                kill -9 "$pid"
                return 0
        fi
        [ -n "$cg" ]
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        sleep 0.5
        box --net off -- true
        for d in $cg; do
                [ ! -d "$d" ]
        done
}
