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

# tm ARGS...: the test's own tmux server, a third-party terminal emulator
# that agentbox runs in, as a user's would be.  Each tm_run starts a server
# on a socket of its own (TM_SOCK): one just killed may still be going
# away, and a client of the same name would reach it.
TM_N=0
tm() {
        tmux -L "${TM_SOCK:-abtest$$-$BATS_TEST_NUMBER}" -f /dev/null "$@"
}

# tm_run CMD: a 100x30 tmux window running CMD, then "EXIT=<status>".
tm_run() {
        TM_N=$((TM_N + 1))
        TM_SOCK="abtest$$-$BATS_TEST_NUMBER-$TM_N"
        CLEANUP+=("tmux -L $TM_SOCK kill-server")
        # the clipboard option set before CMD runs, in the same server
        # start (set after, CMD's OSC 52 could come first)
        tm start-server \; set -g set-clipboard on \; \
                new-session -d -x 100 -y 30 -s t "$1; echo EXIT=\$?; sleep 60"
}

# tm_wait TEXT: until the window shows TEXT (10 s).
tm_wait() {
        local i
        for i in $(seq 100); do
                tm capture-pane -p -t t | grep -qF -- "$1" && return 0
                sleep 0.1
        done
        echo "tmux never showed '$1'; it shows:" >&2
        tm capture-pane -p -t t >&2
        return 1
}

@test "OSC 52 from the box never sets the caller's clipboard (tmux), titles still do; --tty-passthrough lets it" {
        local seqs='printf "\033]52;c;c2VjcmV0\007\033]2;box-title\007"; echo; echo printed'
        tm_run "$AGENTBOX run --workspace $WS -- sh -c '$seqs'"
        tm_wait EXIT=0
        run tm show-buffer
        [ "$status" -ne 0 ] # no buffer: the clipboard was not set
        [ "$(tm display -p -t t '#{pane_title}')" = box-title ]
        tm kill-server
        tm_run "$AGENTBOX run --tty-passthrough --workspace $WS -- sh -c '$seqs'"
        tm_wait EXIT=0
        [ "$(tm show-buffer)" = secret ]
}

@test "vim and less in the box draw, edit and exit cleanly in a real terminal (tmux)" {
        printf 'one\ntwo\n' >"$WS/f.txt"
        tm_run "$AGENTBOX run --workspace $WS -- vi -u NONE -N f.txt"
        tm_wait two
        tm send-keys -t t 'ggOzero' Escape ':wq' Enter
        tm_wait EXIT=0
        [ "$(cat "$WS/f.txt")" = "$(printf 'zero\none\ntwo')" ]
        # the screen is the shell's again: vim's text is gone with its
        # alternate screen
        ! tm capture-pane -p -t t | grep -q '^~'
        tm kill-server
        seq 1 500 >"$WS/long.txt"
        tm_run "$AGENTBOX run --workspace $WS -- less long.txt"
        tm_wait 29
        tm send-keys -t t G
        tm_wait 500
        tm send-keys -t t q
        tm_wait EXIT=0
}

@test "agentbox's messages wait while the box's program has the screen, and come once it gives it back" {
        run term '
import os
from ptyharness import Term
box = r"""
import os, subprocess, sys, termios, time, tty
old = termios.tcgetattr(0)
tty.setraw(0)
os.write(1, b"drawing\r\n")
for i in range(3):  # the same denial three times: shown once
    subprocess.run(["curl", "-s", "-m", "5", "--noproxy", "", "-x", "http://127.0.0.1:3128", "http://denied.example/"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.3)
os.write(1, b"still-drawing\r\n")
termios.tcsetattr(0, termios.TCSANOW, old)
print("gave-the-screen-back", flush=True)
time.sleep(0.5)
print("done", flush=True)
"""
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--", "python3", "-c", box])
assert t.wait() == 0, t.buf
out = t.buf.decode(errors="replace")
print(out)
# held while it drew; shown once it gave the screen back (with its last
# drawing, or with what it wrote next)
d = out.index("still-drawing")
b = out.index("blocked http://denied.example")
assert d < b, (d, b)
assert out.count("blocked http://denied.example") == 1, out
assert "1 message was held while the box" in out or "3 messages were held while the box" in out, out
'
        [ "$status" -eq 0 ]
}

@test "a box that ends inside its TUI leaves the caller's terminal out of it" {
        run term '
import os
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "printf", "\\033[?1049h\\033[?1000h\\033[?2004h\\033[?25ltui"])
assert t.wait() == 0, t.buf
tail = t.buf[t.buf.index(b"tui"):]
for s in (b"\x1b[?1000l", b"\x1b[?2004l", b"\x1b[?1049l", b"\x1b[?25h"):
    assert s in tail, (s, tail)
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "what the box writes just before it ends all reaches the caller's terminal" {
        run term '
import os
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "python3", "-c", "import os; [os.write(1, b\"%06d\\n\" % i) for i in range(30000)]; os._exit(0)"])
assert t.wait() == 0
lines = t.buf.split(b"\r\n")
assert b"029999" in lines, t.buf[-200:]
assert len([l for l in lines if len(l) == 6]) == 30000, len(lines)
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "agentbox ended by a signal it does not forward still sets the caller's terminal back" {
        run term '
import os, signal, time
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--", "sleep", "30"])
time.sleep(1)
raw = t.termios_now()
assert raw != t.before, "the terminal was not raw while the box ran"
os.kill(t.pid, signal.SIGALRM)
st = t.wait()
assert st == 128 + signal.SIGALRM, st
assert t.termios_now() == t.before, "left raw"
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "in a real terminal (tmux): after the box's attacks on its terminal, the shell's terminal is as it was, reopens and flows" {
        cat >"$WS/attack.py" <<'PY'
import fcntl, struct, termios
t = termios.tcgetattr(0)
t[0] &= ~(termios.IXON | termios.ICRNL)
t[3] &= ~(termios.ISIG | termios.ECHO | termios.ICANON)
termios.tcsetattr(0, termios.TCSANOW, t)
fcntl.ioctl(0, termios.TIOCEXCL)
fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 5, 5, 0, 0))
termios.tcflush(0, termios.TCIOFLUSH)
termios.tcflow(1, termios.TCOOFF)
PY
        tm_run "stty -a >$WS/before; $AGENTBOX run --workspace $WS -- python3 attack.py; stty -a >$WS/after; cmp $WS/before $WS/after && echo SAME; exec 3<>\$(tty) && echo REOPENED"
        tm_wait EXIT=0
        tm_wait SAME
        tm_wait REOPENED
        [ "$(tm display -p -t t '#{pane_width}x#{pane_height}')" = 100x30 ]
}

@test "in a real terminal (tmux): after Ctrl-Z, nothing in the box reads what is typed at the shell, even a process of its own group" {
        cat >"$WS/reader.py" <<'PY'
import os, signal, sys, time
if os.fork() == 0:
    os.setpgid(0, 0)  # a group of its own, as an attacker's would be
    signal.signal(signal.SIGTTIN, signal.SIG_IGN)
    with open("log", "ab", buffering=0) as log:
        while True:
            try:
                d = os.read(0, 100)
                log.write(d or b"<eof>")
            except OSError as e:
                log.write(b"<%d>" % e.errno)
                time.sleep(0.05)
print("READY", flush=True)
time.sleep(1000)
PY
        CLEANUP+=("tmux -L ${TM_SOCK:-abtest$$-$BATS_TEST_NUMBER} kill-server")
        tm new-session -d -x 100 -y 30 -s t "bash --norc --noprofile -i"
        tm send-keys -t t "cd $WS && $AGENTBOX run --workspace $WS -- python3 reader.py" Enter
        tm_wait READY
        tm send-keys -t t C-z
        tm_wait Stopped
        tm send-keys -t t "echo typed-at-the-host-shell" Enter
        tm_wait typed-at-the-host-shell
        sleep 0.5
        ! grep -q typed-at "$WS/log" 2>/dev/null
        tm send-keys -t t "kill -TERM %1; fg" Enter
        sleep 1
        ! grep -q typed-at "$WS/log" 2>/dev/null
}

@test "the caller's open file is never left non-blocking, also when its terminal cannot be opened afresh" {
        run term '
import fcntl, os, time
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--", "sh", "-c", "sleep 1; echo done"])
os.fchmod(t.slave, 0)  # agentbox cannot open it again (unless root)
t.expect(rb"done")
st = t.wait()
assert st == 0, (st, t.buf)
assert not fcntl.fcntl(t.slave, fcntl.F_GETFL) & os.O_NONBLOCK, "O_NONBLOCK left on"
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "Ctrl-Z, bg, then fg: the keys go to the box again, not to the shell" {
        run term '
import os, signal, time
from ptyharness import Term
ws = os.environ["WS"]
t = Term([os.environ["AGENTBOX"], "run", "--workspace", ws, "--",
          "python3", "-c", "import sys; open(\"typed\", \"w\").write(sys.stdin.readline())"])
time.sleep(1)
t.send(b"\x1a")
assert t.wait_stopped()
t.take_terminal()
os.killpg(t.pid, signal.SIGCONT)  # bg: running, the terminal the shell'"'"'s
time.sleep(0.5)
assert t.termios_now() == t.before, "raw in the background"
t.cont()                          # fg
time.sleep(0.5)
t.send(b"for-the-box\r")
assert t.wait() == 0, t.buf
assert open(os.path.join(ws, "typed")).read() == "for-the-box\n"
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "the terminal's answers to what the box asked last do not land at the shell's prompt" {
        cat >"$WS/ask.py" <<'PY'
import os
os.write(1, b"last words " * 30000 + b"\x1b[6n\x1b]11;?\x1b\\")
PY
        run term '
import os, time
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--", "python3", "ask.py"])
answered = set()
time.sleep(0.5)  # a terminal slow to take it all: the box is gone first
end = time.time() + 20
while time.time() < end:
    # we are the terminal: answer as one does, once each
    for q, a in ((b"\x1b[6n", b"\x1b[12;1R"), (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
                 (b"\x1b[c", b"\x1b[?62;22c")):
        if q in t.buf and q not in answered:
            os.write(t.master, a)
            answered.add(q)
    if t.status is None:
        pid, st = os.waitpid(t.pid, os.WNOHANG)
        if pid:
            t.status = st
    if not t.read_some(0.3) and t.status is not None:
        break  # ended, and nothing more to show
assert b"\x1b[6n" in answered, t.buf[-100:]
time.sleep(0.3)
t.take_terminal()
import termios, tty
tty.setraw(t.slave, termios.TCSANOW)  # as a shell'"'"'s line editor reads its prompt
os.set_blocking(t.slave, False)
try:
    left = os.read(t.slave, 1000)
except BlockingIOError:
    left = b""
assert left == b"", ("the shell would read", left)
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}

@test "the box has at most 128 pseudo-terminals of its own" {
        run box --net off -- python3 -c '
import os
n = 0
try:
    while n < 1000:
        os.open("/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY)
        n += 1
except OSError as e:
    print("refused", e.strerror)
print(n)'
        [ "$status" -eq 0 ]
        [[ "$output" == *refused* ]]
        [ "${lines[-1]}" -le 128 ]
}

@test "in a real terminal (tmux): Ctrl-Z in a TUI gives the shell a terminal out of its modes; fg gives the TUI its screen back" {
        cat >"$WS/tui.py" <<'PY'
import os, sys, time, tty
tty.setraw(0)
os.write(1, b"\x1b[?1049h\x1b[?1000h\x1b[?1006h\x1b[?2004hIN-THE-TUI")
time.sleep(60)
PY
        CLEANUP+=("tmux -L ${TM_SOCK:-abtest$$-$BATS_TEST_NUMBER} kill-server")
        tm new-session -d -x 100 -y 30 -s t "bash --norc --noprofile -i"
        tm send-keys -t t "$AGENTBOX run --workspace $WS -- python3 $WS/tui.py" Enter
        tm_wait IN-THE-TUI
        [ "$(tm display -p -t t '#{alternate_on}#{mouse_any_flag}')" = 11 ]
        tm send-keys -t t C-z
        tm_wait Stopped
        [ "$(tm display -p -t t '#{alternate_on}#{mouse_any_flag}')" = 00 ]
        tm send-keys -t t fg Enter
        for _ in $(seq 50); do
                [ "$(tm display -p -t t '#{alternate_on}')" = 1 ] && break
                sleep 0.1
        done
        [ "$(tm display -p -t t '#{alternate_on}')" = 1 ]
}

@test "a caller whose locale is not UTF-8 gets no byte of 80 to 9F from the box (C1 controls to its terminal)" {
        run term '
import os
os.environ["LC_ALL"] = "C"
from ptyharness import Term
t = Term([os.environ["AGENTBOX"], "run", "--workspace", os.environ["WS"], "--",
          "printf", "x\\342\\200\\23552;c;eA==\\a \\302\\233 2h y"])
assert t.wait() == 0, t.buf
body = t.buf[t.buf.index(b"x"):]
assert not any(0x80 <= c <= 0x9f for c in body), body
print("ok")
'
        [ "$status" -eq 0 ]
        [[ "$output" == *ok* ]]
}
