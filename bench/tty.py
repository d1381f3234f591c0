"""One measurement of a sandbox's terminal path, for bench/tty.sh: the
command prefix given runs under a pty of ours, as in a terminal emulator.

  tty.py throughput FILE -- PREFIX...   seconds for `cat FILE` to reach us
  tty.py latency N -- PREFIX...          N keystrokes echoed back by a
                                         program in raw mode: median and
                                         99th percentile, microseconds
Prints one JSON object."""
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "e2e"))
from ptyharness import Term  # noqa: E402

ECHO = ("import os, sys, tty; tty.setraw(0); os.write(1, b'R'); n = int(sys.argv[1])\n"
        "for _ in range(n):\n    os.write(1, os.read(0, 1))\n")


def drain_all(t):
    """Read everything until the job ends; returns bytes read."""
    n = 0
    while True:
        r, _, _ = select.select([t.master], [], [], 0.5)
        if r:
            try:
                d = os.read(t.master, 1 << 16)
            except OSError:
                d = b""
            n += len(d)
            if d:
                continue
        pid, st = os.waitpid(t.pid, os.WNOHANG)
        if pid:
            t.status = st
            while True:  # what is left in the pty
                r, _, _ = select.select([t.master], [], [], 0.05)
                if not r:
                    return n
                try:
                    d = os.read(t.master, 1 << 16)
                except OSError:
                    return n
                if not d:
                    return n
                n += len(d)


def main():
    kind, arg = sys.argv[1], sys.argv[2]
    prefix = sys.argv[sys.argv.index("--") + 1:]
    if kind == "throughput":
        t0 = time.monotonic()
        t = Term(prefix + ["cat", arg], rows=50, cols=200)
        n = drain_all(t)
        dt = time.monotonic() - t0
        ok = os.WIFEXITED(t.status) and os.WEXITSTATUS(t.status) == 0
        print(json.dumps({"seconds": dt, "bytes": n, "ok": ok}))
        return
    keys = int(arg)
    t = Term(prefix + ["python3", "-c", ECHO, str(keys + 20)], rows=50, cols=200)
    t.expect(rb"R", timeout=30)
    import termios
    if t.termios_now()[3] & termios.ECHO:
        # the program's raw mode did not reach our terminal: what would be
        # timed is our own line discipline's echo, not the sandbox's path
        print(json.dumps({"median_us": None, "p99_us": None, "keys": 0,
                          "why": "the program in the sandbox did not get the terminal"}))
        os.kill(t.pid, 9)
        return
    lat = []
    for i in range(keys + 20):
        c = b"abcdefghij"[i % 10:i % 10 + 1]
        s = time.monotonic_ns()
        os.write(t.master, c)
        got = b""
        while not got:
            r, _, _ = select.select([t.master], [], [], 5)
            if not r:
                raise SystemExit("no echo")
            got = os.read(t.master, 16)
        if i >= 20:  # warm-up keys
            lat.append((time.monotonic_ns() - s) / 1000)
    t.wait()
    lat.sort()
    print(json.dumps({"median_us": lat[len(lat) // 2],
                      "p99_us": lat[int(len(lat) * 0.99) - 1], "keys": keys}))


main()
