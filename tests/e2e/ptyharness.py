"""A terminal for tests: runs a command as the foreground job of a pty of
its own, as a shell in a terminal emulator would, and lets the test type,
read, resize, stop and continue it, and look at the terminal afterwards.

    from ptyharness import Term
    t = Term(["agentbox", "run", "--", "sh"], rows=30, cols=100)
    t.expect(b"$ ")
    t.send(b"echo hi\\r")
    t.expect(b"hi")
    status = t.wait()
"""
import fcntl
import os
import re
import select
import signal
import struct
import termios
import time


class Term:
    def __init__(self, argv, rows=24, cols=80, env=None, cwd=None):
        self.master, self.slave = os.openpty()
        self.slave_name = os.ttyname(self.slave)
        self.set_size(rows, cols)
        # we are the "shell": a session of our own with the pty as its
        # terminal, the job a process group of it, in the foreground
        try:
            os.setsid()
        except PermissionError:
            pass  # a session leader already
        fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        self.before = termios.tcgetattr(self.slave)
        self.buf = b""
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            os.tcsetpgrp(self.slave, os.getpgrp())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
            for fd in (0, 1, 2):
                os.dup2(self.slave, fd)
            os.close(self.master)
            if self.slave > 2:
                os.close(self.slave)
            if cwd:
                os.chdir(cwd)
            os.execvpe(argv[0], argv, env if env is not None else os.environ)
        try:
            os.setpgid(pid, pid)
            os.tcsetpgrp(self.slave, pid)
        except OSError:
            pass  # the child did it first
        self.pid = pid
        self.status = None
        # we stay the "shell": a process of another session, holding the
        # slave open to look at the terminal after the job is done

    def set_size(self, rows, cols):
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, rows, cols):
        self.set_size(rows, cols)
        # as an emulator's kernel does: SIGWINCH to the foreground job
        os.killpg(os.tcgetpgrp(self.slave), signal.SIGWINCH)

    def send(self, data):
        os.write(self.master, data)

    def read_some(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return b""
        try:
            d = os.read(self.master, 65536)
        except OSError:
            return b""
        self.buf += d
        return d

    def expect(self, pattern, timeout=10):
        """Read until pattern (bytes, a regex) is in the output; returns
        the match.  Raises on timeout, with what came."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; got %r"
                                     % (pattern, self.buf[-2000:]))
            self.read_some(min(left, 0.2))

    def drain(self, timeout=0.3):
        end = time.time() + timeout
        while time.time() < end:
            self.read_some(0.05)
        out, self.buf = self.buf, b""
        return out

    def wait_stopped(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            pid, st = os.waitpid(self.pid, os.WUNTRACED | os.WNOHANG)
            if pid and os.WIFSTOPPED(st):
                return True
            if pid:
                self.status = st
                return False
            self.read_some(0.05)
        return False

    def take_terminal(self):
        """As a shell does when its job stops: the terminal is ours."""
        os.tcsetpgrp(self.slave, os.getpgrp())

    def give_terminal(self):
        os.tcsetpgrp(self.slave, self.pid)

    def cont(self):
        self.give_terminal()
        os.killpg(self.pid, signal.SIGCONT)

    def wait(self, timeout=30):
        end = time.time() + timeout
        while self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
                break
            if time.time() > end:
                os.kill(self.pid, signal.SIGKILL)
                raise AssertionError("the job did not end; output %r"
                                     % self.buf[-2000:])
            self.read_some(0.05)
        while self.read_some(0.1):
            pass  # what it wrote last
        if os.WIFEXITED(self.status):
            return os.WEXITSTATUS(self.status)
        return 128 + os.WTERMSIG(self.status)

    def termios_now(self):
        return termios.tcgetattr(self.slave)

    def reopen(self):
        """Open the terminal by its name again, as ssh or less would."""
        fd = os.open(self.slave_name, os.O_RDWR | os.O_NOCTTY)
        os.close(fd)
