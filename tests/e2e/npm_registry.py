#!/usr/bin/env python3
"""A tiny npm registry for the newcomer test: one package, tiny-pkg 1.0.0,
its metadata and its tarball, served on ADDR:PORT with URLs naming NAME
(so that the box reaches it by name).  Logs each request path to LOG.
Usage: npm_registry.py NAME ADDR PORT LOG.  Stops by itself after 120 s."""
import base64, hashlib, http.server, io, json, sys, tarfile, threading

name, addr, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as t:
    for fn, body in (("package/package.json",
                      b'{"name": "tiny-pkg", "version": "1.0.0", "main": "index.js"}\n'),
                     ("package/index.js", b"module.exports = 42;\n")):
        ti = tarfile.TarInfo(fn)
        ti.size = len(body)
        ti.mode = 0o644
        t.addfile(ti, io.BytesIO(body))
tgz = buf.getvalue()
base = "http://%s:%d" % (name, port)
meta = json.dumps({
    "name": "tiny-pkg",
    "dist-tags": {"latest": "1.0.0"},
    "versions": {"1.0.0": {
        "name": "tiny-pkg", "version": "1.0.0",
        "dist": {"tarball": base + "/tiny-pkg/-/tiny-pkg-1.0.0.tgz",
                 "shasum": hashlib.sha1(tgz).hexdigest(),
                 "integrity": "sha512-" + base64.b64encode(
                     hashlib.sha512(tgz).digest()).decode()}}},
}).encode()


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        if self.path.split("?")[0] == "/tiny-pkg":
            body, ctype = meta, "application/json"
        elif self.path.endswith("/tiny-pkg-1.0.0.tgz"):
            body, ctype = tgz, "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


srv = http.server.ThreadingHTTPServer((addr, port), H)
threading.Timer(120, srv.shutdown).start()
srv.serve_forever()
