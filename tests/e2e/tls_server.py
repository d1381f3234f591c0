#!/usr/bin/env python3
"""A loopback HTTPS server for the tests: tls_server.py ADDR PORT CERT KEY LOG.
Answers each request with a fixed body; logs each accepted TLS connection's
server name (SNI) to LOG, so a test can check what reached it."""
import socket, ssl, sys, threading

addr, port, cert, key, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
names = open(log, "a", buffering=1)

def sni_cb(sock, name, _ctx):
    names.write("sni=%s\n" % name)

ctx.sni_callback = sni_cb
srv = socket.create_server((addr, port))

def serve(c):
    try:
        with ctx.wrap_socket(c, server_side=True) as s:
            s.recv(65536)
            body = b"hello over tls\n"
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    except Exception as e:
        names.write("error=%s\n" % e)

while True:
    c, _ = srv.accept()
    names.write("connection\n")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
