#!/usr/bin/env python3
"""A host-side listener for the escape tests: it records every connection or
datagram it sees into LOG, so a test can assert the host saw nothing.
Usage: listen.py tcp|udp|unix|abstract ADDRESS LOG.  Stops by itself after
60 seconds."""
import os
import select
import socket
import sys
import time

kind, addr, log = sys.argv[1], sys.argv[2], sys.argv[3]
if kind in ("tcp", "udp"):
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET,
                      socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(("\0" + addr) if kind == "abstract" else addr)
if kind != "udp":
    s.listen(8)
open(log, "w").close()
print("ready", flush=True)
deadline = time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([s], [], [], 0.5)
    if not r:
        continue
    if kind == "udp":
        data, peer = s.recvfrom(2048)
        what = "datagram %r" % (data,)
    else:
        c, peer = s.accept()
        what = "connection"
        c.close()
    with open(log, "a") as f:
        f.write("%s from %r\n" % (what, peer))
