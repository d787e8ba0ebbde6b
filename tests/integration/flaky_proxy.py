#!/usr/bin/env python3
"""flaky_proxy.py PORTFILE UPSTREAM MODE

A loopback HTTP proxy in front of a test registry that misbehaves on
purpose, for the client's retry and integrity paths. It writes the port it
listens on to PORTFILE. MODE:
  truncate-once    the first GET of each blob sends half its body, then closes
  truncate-always  every GET of a blob is cut in half
  503-once         the first request for each path answers 503
  garbage-blob     blob GETs get the right length of wrong bytes
  foreign-location upload Locations name this proxy as "localhost" (another
                   origin); requests arriving that way with credentials are
                   recorded in PORTFILE.leaks
"""
import http.client
import re
import http.server
import sys
import threading

portfile, upstream, mode = sys.argv[1], sys.argv[2], sys.argv[3]
seen = set()
lock = threading.Lock()


def first_time(key):
    with lock:
        if key in seen:
            return False
        seen.add(key)
        return True


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        # Read the body first: an unread body would be parsed as the next request.
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if mode == "foreign-location" and self.headers.get("Host", "").startswith("localhost") \
                and self.headers.get("Authorization"):
            with open(portfile + ".leaks", "a") as f:
                f.write(self.command + " " + self.path + "\n")
        # Upload sessions get fresh URLs: key them by kind, not by session.
        key = re.sub(r"/uploads/[^?]*", "/uploads/", self.path.split("?")[0])
        if mode == "503-once" and first_time(self.command + key):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        conn = http.client.HTTPConnection(upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        is_blob = self.command == "GET" and "/blobs/sha256:" in self.path and resp.status == 200
        cut = is_blob and (mode == "truncate-always" or (mode == "truncate-once" and first_time(self.path)))
        if is_blob and mode == "garbage-blob":
            data = bytes((b ^ 0x55) for b in data)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "content-length"):
                continue
            if k.lower() == "location":
                v = v.replace(upstream, self.headers["Host"])
                if mode == "foreign-location":
                    v = v.replace("127.0.0.1", "localhost")
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data[: len(data) // 2] if cut else data)
        if cut:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
