#!/usr/bin/env bats
# The box's own terminal: run under a real pty (ptyharness.py plays the
# caller's terminal and shell), the box tries to reach the caller's
# terminal from inside, and the test checks the terminal from outside.

bats_require_minimum_version 1.5.0
load helpers

# term SCRIPT: python3 with the harness, AGENTBOX and WS in its environment.
term() {
        PYTHONPATH="$BATS_TEST_DIRNAME" AGENTBOX="$AGENTBOX" WS="$WS" PORT="${PORT:-}" \
                timeout 120 python3 -c "$1"
}

@test "a terminal caller: the box has a pty of its own as its terminal, and no descriptor of the caller's" {
        run term '
import os
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "sh", "-c", "tty; echo via-dev-tty >/dev/tty; stat -L -c \"dev=%d\" /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -c pts"])
assert t.wait() == 0, t.buf
out = t.buf.decode()
print(out)
host = os.stat(t.slave_name).st_dev
assert "/dev/pts/" in out, out
assert "via-dev-tty" in out, out
devs = [l for l in out.split() if l.startswith("dev=")]
assert len(devs) == 3, out
# the box'"'"'s terminal is of its own devpts, not the caller'"'"'s
assert all(d != "dev=%d" % host for d in devs), (devs, host)
'
        [ "$status" -eq 0 ]
}

@test "after the box, the caller's terminal is as it was, whatever the box did to its own" {
        run term '
import os, struct, fcntl, termios
from ptyharness import Term
attack = r"""
import fcntl, os, struct, termios, tty
fd = 0
t = termios.tcgetattr(fd)
t[0] &= ~(termios.IXON | termios.ICRNL)
t[3] &= ~(termios.ISIG | termios.ECHO | termios.ICANON)
termios.tcsetattr(fd, termios.TCSANOW, t)
fcntl.ioctl(fd, termios.TIOCEXCL)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 5, 5, 0, 0))
termios.tcflush(fd, termios.TCIOFLUSH)
print("attacked", flush=True)
termios.tcflow(1, termios.TCOOFF)
"""
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "python3", "-c", attack], rows=30, cols=100)
st = t.wait()
assert st == 0, (st, t.buf)
assert b"attacked" in t.buf, t.buf
assert t.termios_now() == t.before, "termios changed"
ws = struct.unpack("HHHH", fcntl.ioctl(t.slave, termios.TIOCGWINSZ, b"\0" * 8))
assert ws[:2] == (30, 100), ws
t.reopen()  # TIOCEXCL did not reach it
os.write(t.slave, b"still-flows\n")  # nor TCOOFF
t.expect(rb"still-flows")
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "the caller's window size reaches the box, and its changes" {
        run term '
import os
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "sh", "-c", "stty size; trap \"stty size\" WINCH; echo ready; while :; do sleep 0.05; done"],
         rows=30, cols=100)
t.expect(rb"30 100")
t.expect(rb"ready")
t.resize(41, 123)
t.expect(rb"41 123")
t.send(b"\x03")  # Ctrl-C, through the box'"'"'s own line discipline
st = t.wait()
assert st == 130, (st, t.buf)
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "bash -i in the box has job control, and Ctrl-C reaches its foreground job" {
        run term '
import os, time
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "bash", "--norc", "--noprofile", "-i"])
t.expect(rb"\$ ")
t.send(b"echo flags=$-\r")
m = t.expect(rb"flags=([a-zA-Z]+)\r\n")
assert b"m" in m.group(1), m.group(1)
t.send(b"sleep 1000 & jobs\r")
t.expect(rb"Running")
t.send(b"sleep 30\r")
time.sleep(0.5)
t.send(b"\x03")
t.send(b"echo back-$((6*7))\r")
t.expect(rb"back-42", timeout=5)
t.send(b"kill %1; exit 3\r")
assert t.wait() == 3, t.buf
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "Ctrl-Z stops agentbox and the box, gives the terminal back as it was; nothing typed meanwhile reaches the box; fg resumes both" {
        run term '
import os, time
from ptyharness import Term
ws = os.environ["WS"]
reader = "import sys; open(\"typed\", \"w\").write(sys.stdin.read())"
t = Term([os.environ["AGENTBOX"], "run", "--workspace", ws, "--",
          "python3", "-c", reader, "MARK-tty-test"])
time.sleep(1)
t.send(b"first\r")
time.sleep(0.3)
t.send(b"\x1a")
assert t.wait_stopped(), ("agentbox did not stop", t.buf)
t.take_terminal()
assert t.termios_now() == t.before, "the terminal is not as it was while stopped"
def box_states():
    out = []
    for p in os.listdir("/proc"):
        try:
            if (open("/proc/%s/comm" % p).read().strip() == "python3" and
                    open("/proc/%s/cmdline" % p, "rb").read().endswith(b"MARK-tty-test\0")):
                out.append(open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0])
        except OSError:
            pass
    return out
time.sleep(0.3)
assert box_states() == ["T"], box_states()
os.write(t.master, b"secret\r")  # typed at the shell while stopped
time.sleep(0.3)
assert os.read(t.slave, 100) == b"secret\n"  # the shell reads it, not the box
t.cont()
time.sleep(0.5)
assert box_states() and "T" not in box_states(), box_states()
t.send(b"second\r\x04")
assert t.wait() == 0, t.buf
typed = open(os.path.join(ws, "typed")).read()
assert typed == "first\nsecond\n", repr(typed)
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "a pipe stays a pipe: stdin from a pipe, the terminal only where the caller has one" {
        run term '
import os
from ptyharness import Term
a, w = os.environ["AGENTBOX"], os.environ["WS"]
t = Term(["sh", "-c", "echo piped | \"$0\" run --workspace \"$1\" -- sh -c \"cat; tty; tty <&1\"", a, w])
assert t.wait() == 0, t.buf
out = t.buf.decode()
assert "piped" in out and "not a tty" in out and "/dev/pts/" in out, out
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "no terminal among the caller's streams: nothing changes" {
        run box -- sh -c 'tty; ls -l /proc/self/fd/0 /proc/self/fd/1'
        [[ "$output" == *"not a tty"* ]]
        [[ "$output" != *pts* ]]
}

@test "a box that fills the terminal while the caller reads nothing does not stall agentbox's proxy or its denials" {
        start_http
        run term '
import os, time
from ptyharness import Term
ws, port = os.environ["WS"], os.environ["PORT"]
box = r"""
import os, subprocess, sys, threading
def flood():
    while True:
        os.write(1, b"x" * 4096)
threading.Thread(target=flood, daemon=True).start()
curl = ["curl", "-sS", "-m", "10", "--noproxy", "", "-x", "http://127.0.0.1:3128"]
res = []
for i in range(3):
    r = subprocess.run(curl + ["-o", "/dev/null", "-w", "%{http_code}", "http://denied%d.example/" % i],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    res.append(r.stdout.decode())
    r = subprocess.run(curl + ["http://localhost:%s/" % sys.argv[1]],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    res.append(r.stdout.decode().strip())
open("result", "w").write(" ".join(res))
os._exit(0)
"""
t = Term([os.environ["AGENTBOX"], "run", "--workspace", ws, "--allow", "localhost", "--allow", "127.0.0.1",
          "--", "python3", "-c", box, port])
end = time.time() + 30
while time.time() < end and not os.path.exists(os.path.join(ws, "result")):
    time.sleep(0.1)  # and read nothing of the terminal meanwhile
res = open(os.path.join(ws, "result")).read()
assert res == " ".join(["403", "hello from the host"] * 3), res
t.wait()
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}
