#!/usr/bin/env python3
"""forward_proxy.py PORTFILE USER PASSWORD

A loopback HTTP forward proxy for the proxySecretRef tests: plain-HTTP
requests in absolute form ("GET http://host/path") are forwarded, CONNECT
opens a tunnel. Every request must carry Proxy-Authorization: Basic
USER:PASSWORD, else it gets 407. It writes the port it listens on to
PORTFILE and logs one line per request to PORTFILE.log:
"METHOD TARGET -> STATUS", so a test can tell that traffic went through it.
"""
import base64
import http.client
import http.server
import os
import select
import socket
import sys
import threading
import urllib.parse

portfile, user, password = sys.argv[1:4]
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
log = open(portfile + ".log", "a", buffering=1)
lock = threading.Lock()


def note(line):
    with lock:
        log.write(line + "\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def authorized(self):
        if self.headers.get("Proxy-Authorization") == expected:
            return True
        note(f"{self.command} {self.path} -> 407")
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="sluice-test-proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self):
        if not self.authorized():
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            note(f"CONNECT {self.path} -> 502")
            self.send_error(502)
            return
        note(f"CONNECT {self.path} -> 200")
        self.send_response(200)
        self.end_headers()
        conns = [self.connection, upstream]
        while True:
            ready, _, _ = select.select(conns, [], [], 30)
            if not ready:
                break
            for c in ready:
                data = c.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if c is self.connection else self.connection).sendall(data)
        upstream.close()

    def forward(self):
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            note(f"{self.command} {self.path} -> 400")
            self.send_error(400, "absolute http URL expected")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")}
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        target = url.path + ("?" + url.query if url.query else "")
        conn.request(self.command, target or "/", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        note(f"{self.command} {self.path} -> {resp.status}")
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, portfile)
server.serve_forever()
