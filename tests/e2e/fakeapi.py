"""What the stand-in model APIs (fake_anthropic.py, fake_openai.py,
fake_gemini.py) share: their command line (ADDR PORT LOG CMD), a request
log (method, path and the whole body, one line each), replies with a
length, a 404 for an unknown GET, the body of a POST as JSON, and a
threaded server that stops by itself after 180 s."""
import http.server, json, sys, threading

addr, port, log, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    not_found = b'{"error":"not found"}'

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def note(self, body=b""):
        # the whole body: a tool's result comes after ~50 KB of prompt
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path,
                                    body.decode("utf-8", "replace").replace("\n", " ")))

    def do_HEAD(self):
        self.note()
        self.reply(200, b"")

    def do_GET(self):
        self.note()
        self.reply(404, self.not_found)

    def body(self):
        """The POST's raw body (logged) and its JSON (None if not JSON)."""
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n)
        self.note(raw)
        try:
            return raw, json.loads(raw or b"{}")
        except ValueError:
            return raw, None


def serve(handler):
    srv = http.server.ThreadingHTTPServer((addr, port), handler)
    threading.Timer(180, srv.shutdown).start()
    srv.serve_forever()
