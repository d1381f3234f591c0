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

@test "kill -9 of agentbox leaves no cgroup behind once the next box starts; every process of the box is in its cgroups" {
        # a daemon (its own session, its parent gone) as well as the command
        "$AGENTBOX" run --workspace "$WS" --net off -- sh -c \
                '(setsid sleep 30 &); exec sleep 30' &
        local pid=$!
        CLEANUP+=("kill -9 $pid")
        sleep 1
        # this box's: named after its init, agentbox's child (other runs
        # on the machine have theirs)
        local cg="" c
        for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
                cg+=" $(find /sys/fs/cgroup -maxdepth 8 -type d -name "agentbox-$c" 2>/dev/null || true)"
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
        # the pids cgroup and the memory cgroup (the default memory cap)
        [[ "$cg" == */pids/* ]]
        [[ "$cg" == */memory/* ]]
        # seen from the host: every process in the box's pid namespace is
        # in each of its cgroups (the box joins them itself, cgroup.c)
        local init=${cg##*agentbox-} ns p n=0
        init=${init%% *}
        ns=$(readlink /proc/"$init"/ns/pid)
        for p in /proc/[0-9]*; do
                [ "$(readlink "$p"/ns/pid 2>/dev/null)" = "$ns" ] || continue
                n=$((n + 1))
                for d in $cg; do
                        grep -qx "${p#/proc/}" "$d"/cgroup.procs
                done
        done
        [ "$n" -ge 3 ] # init, the command, the daemon
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        sleep 0.5
        box --net off -- true
        for d in $cg; do
                [ ! -d "$d" ]
        done
}

# memhog: in the box, each attack in a process of its own (the biggest, so
# the one the OOM killer takes), one line each: what it got before it was
# stopped.
memhog() {
        cat >"$WS/memhog.py" <<'PY'
import os, subprocess, sys
MiB = 1 << 20
ATTACKS = {
    "anon": """
chunks = []
while len(chunks) < 1024:
    chunks.append(bytearray(16 << 20))   # zero-filled: touched
    got(len(chunks) * 16)
""",
    "tmpfs": """
with open("/tmp/fill", "wb") as f:
    for i in range(1024):
        f.write(b"x" * (1 << 20)); f.flush(); got(i + 1)
""",
    "shm": """
with open("/dev/shm/fill", "wb") as f:
    for i in range(1024):
        f.write(b"x" * (1 << 20)); f.flush(); got(i + 1)
""",
    "memfd": """
import mmap
fd = os.memfd_create("fill")
os.ftruncate(fd, 1 << 30)
m = mmap.mmap(fd, 1 << 30)          # mapped: the OOM killer sees it
for i in range(1024):
    m[i << 20:(i + 1) << 20] = b"x" * (1 << 20); got(i + 1)
""",
    "files": """
os.makedirs("/tmp/many", exist_ok=True)
for i in range(1000000):
    open("/tmp/many/%d" % i, "w").close()
    if i % 1000 == 0: got(i)
""",
}
PRELUDE = """
import os, sys
def got(n):
    os.pwrite(3, str(n).encode().ljust(16), 0)
"""
for name, body in ATTACKS.items():
    rd = os.open("/tmp/got", os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    p = subprocess.run([sys.executable, "-c", PRELUDE + body], pass_fds=(rd,) if rd == 3 else (),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, preexec_fn=lambda: os.dup2(rd, 3))
    n = os.pread(rd, 16, 0).decode().strip() or "0"
    os.close(rd)
    why = p.stderr.decode().strip().splitlines()[-1:] or ["killed by signal %d" % -p.returncode]
    print("%s: got %s, ended with %d (%s)" % (name, n, p.returncode, why[0][:80]), flush=True)
    for f in ("/tmp/fill", "/dev/shm/fill"):
        try: os.unlink(f)
        except OSError: pass
    subprocess.run(["rm", "-rf", "/tmp/many"])
PY
}

@test "--memory 256M: anonymous memory, tmpfs, /dev/shm, memfd and a million files are stopped; a host process of the same user keeps its memory" {
        memhog
        # the host process, started before the box: 64 MiB of a pattern
        python3 -c '
import hashlib, os, signal, sys, time
buf = bytearray(os.urandom(1 << 16)) * 1024
want = hashlib.sha256(buf).hexdigest()
open(sys.argv[1] + ".ready", "w").close()
def check(*_):
    ok = hashlib.sha256(buf).hexdigest() == want
    open(sys.argv[1], "w").write("intact" if ok else "changed")
    sys.exit(0)
signal.signal(signal.SIGUSR1, check)
while True: time.sleep(1)
' "$BATS_TEST_TMPDIR/host" &
        local host=$!
        CLEANUP+=("kill $host")
        for _ in $(seq 100); do [ -e "$BATS_TEST_TMPDIR/host.ready" ] && break; sleep 0.1; done
        run box --net off --memory 256M -- python3 memhog.py
        echo "$output"
        [ "$status" -eq 0 ]
        local mib
        for a in anon tmpfs shm memfd; do
                [[ "$output" == *"$a: got "* ]]
                mib=$(sed -n "s/^$a: got \([0-9]*\),.*/\1/p" <<<"$output")
                # stopped at or below the cap, never at the attack's own end
                [ "$mib" -le 256 ]
        done
        local files; files=$(sed -n 's/^files: got \([0-9]*\),.*/\1/p' <<<"$output")
        [ "$files" -lt 100000 ]
        if [ "$(id -u)" -eq 0 ]; then
                # held by a memory cgroup: the box paid, and was told so
                [[ "$output" == *"the box reached its memory cap of 256 MiB"* ]]
        else
                [[ "$output" == *"no memory cgroup"*"holds for each process's own data, each file and the box's tmpfs"* ]]
        fi
        kill -0 "$host"
        kill -USR1 "$host"
        for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/host" ] && break; sleep 0.1; done
        [ "$(cat "$BATS_TEST_TMPDIR/host")" = intact ]
}

@test "--cpus 0.2 holds two busy processes to a fifth of a CPU (root: a cpu cgroup), or says it cannot" {
        run box --net off --cpus 0.2 -- python3 -c '
import os, time
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 1.5
        while time.monotonic() < end: pass
        os._exit(0)
    kids.append(pid)
for k in kids: os.waitpid(k, 0)
t = os.times()
print("cpu %.2f" % (t.children_user + t.children_system))
'
        echo "$output"
        [ "$status" -eq 0 ]
        local cpu; cpu=$(sed -n 's/^cpu //p' <<<"$output")
        if [ "$(id -u)" -eq 0 ]; then
                # 0.2 of a CPU for ~1.5 s (and a little slack); uncapped
                # the two would take about 3 s
                python3 -c "import sys; sys.exit(0 if $cpu < 0.8 else 1)"
                run box --net off --cpus 0.2 --verbose -- true
                [[ "$output" == *"cpu cap 0.200 CPUs by cpu.max / cfs quota"* ]]
        else
                [[ "$output" == *"--cpus: no cpu cgroup"*"not capped"* ]]
        fi
}

@test "--memory and --cpus refuse what they cannot mean" {
        local v
        for v in 0 31M 1.5G -1 12X "" 18446744073709551615; do
                run box --net off --memory "$v" -- true
                [ "$status" -eq 125 ]
                [[ "$output" == *"--memory"*"expected a size"* ]]
        done
        for v in 0 0.001 -1 1e3 1,5 4097 ""; do
                run box --net off --cpus "$v" -- true
                [ "$status" -eq 125 ]
                [[ "$output" == *"--cpus"*"expected a number of CPUs"* ]]
        done
        run box --net off --memory unlimited --verbose -- true
        [ "$status" -eq 0 ]
        [[ "$output" == *"no memory cap (--memory unlimited)"* ]]
        run box --net off --memory 1g --cpus 1.5 -- true
        [ "$status" -eq 0 ]
}

@test "the default memory cap is half the host's memory, and the box's tmpfs follow it" {
        run box --net off --verbose -- sh -c 'grep -E " /tmp | /dev/shm " /proc/mounts'
        echo "$output"
        [ "$status" -eq 0 ]
        local half; half=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576 / 2}' /proc/meminfo)
        [[ "$output" == *"memory cap $half GiB"* ]]
        [[ "$output" == *"/tmp tmpfs"*"nr_inodes="* ]]
        [[ "$output" == *"/dev/shm tmpfs"*"nr_inodes="* ]]
}

@test "--memory 128M holds what a box queues in TCP buffers too (root: the memory cgroup's TCP limit)" {
        [ "$(id -u)" -eq 0 ] || return 0 # no cgroup unprivileged: the host's tcp_mem holds it
        run box --net off --memory 128M -- python3 -c '
import socket
srv = socket.create_server(("127.0.0.1", 0)); srv.listen(512)
port = srv.getsockname()[1]
held, total = [], 0
for i in range(300):
    try:
        c = socket.create_connection(("127.0.0.1", port)); a, _ = srv.accept()
    except OSError:
        break
    a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    c.setblocking(False)
    held += [c, a]
    while True:
        try:
            total += c.send(b"x" * 65536)
        except (BlockingIOError, OSError):
            break
print("queued %d MiB" % (total >> 20))
'
        echo "$output"
        local mib; mib=$(sed -n 's/^queued \([0-9]*\) MiB/\1/p' <<<"$output")
        [ -n "$mib" ]
        # without the TCP limit this queued over 2 GiB (the host's tcp_mem)
        [ "$mib" -le 400 ]
}
