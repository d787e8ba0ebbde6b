#!/usr/bin/env python3
"""kube_flaky_proxy.py PORTFILE UPSTREAM CA CERT KEY MODE

A loopback plain-HTTP reverse proxy in front of the test API server
(UPSTREAM, https://127.0.0.1:PORT, reached with the client certificate CERT
and KEY, trusting CA) that misbehaves on purpose, for the Kubernetes
client's retry paths. It writes the port it listens on to PORTFILE. The
first request of each (method, path) gets, by MODE:
  429-once   429 Too Many Requests with Retry-After: 1
  503-once   503 Service Unavailable
  drop-once  no answer at all: the connection is closed
and every later one is forwarded. Each request is logged to PORTFILE.log as
"METHOD PATH -> STATUS" so the test can count attempts.
"""
import http.client
import http.server
import os
import ssl
import sys
import threading
import urllib.parse

portfile, upstream, ca, cert, key, mode = sys.argv[1:7]
up = urllib.parse.urlsplit(upstream)
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
seen = set()
lock = threading.Lock()
log = open(portfile + ".log", "a", buffering=1)

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate", "host", "content-length"}


def first_time(k):
    with lock:
        if k in seen:
            return False
        seen.add(k)
        return True


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = self.path.split("?")[0]
        if first_time((self.command, path)):
            log.write(f"{self.command} {path} -> {mode}\n")
            if mode == "drop-once":
                self.close_connection = True
                return
            status = 429 if mode == "429-once" else 503
            payload = (b'{"kind":"Status","apiVersion":"v1","status":"Failure",'
                       b'"reason":"%s","code":%d}' % (
                           b"TooManyRequests" if status == 429 else b"ServiceUnavailable",
                           status))
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=ctx, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        log.write(f"{self.command} {path} -> {resp.status}\n")
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
