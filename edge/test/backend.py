#!/usr/bin/env python3
"""Configurable test origin for edge/edge.vcl.

Used in-process by test_vcl.py (Backend class), or standalone:

    python3 backend.py PORT

Routes are keyed by request target (path + query).  A route answers with a
configured status, headers and body; if it has an `etag` and the request's
If-None-Match matches, it answers 304 with the route's headers.  Unknown
paths answer a JSON echo of the request (method, path, headers, body) with
the headers of the route "*" if configured, else 404.  Methods the origin
does not know get 405 (so we can tell that Varnish passed them through).

Standalone control API (talk to the backend port directly, not via Varnish):
    PUT  /__ctl/route?path=/x   body: {"status":200,"headers":[["K","V"]],"body":"...","etag":"\\"v1\\"",
                                       "last_modified":"<http-date>"}
    GET  /__ctl/log             JSON list of requests seen
    POST /__ctl/reset
"""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.routes = {}
        self.log = []

    def set_route(self, path, status=200, headers=(), body="", etag=None,
                  last_modified=None):
        """body=None answers a JSON echo of the request."""
        with self.lock:
            self.routes[path] = {"status": status, "headers": [tuple(h) for h in headers],
                                 "body": body, "etag": etag,
                                 "last_modified": last_modified}

    def reset(self):
        with self.lock:
            self.routes.clear()
            self.log.clear()

    def requests(self, path=None, method=None):
        with self.lock:
            return [r for r in self.log
                    if (path is None or r["path"] == path)
                    and (method is None or r["method"] == method)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "edge-test-origin"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def __getattr__(self, name):
        # BaseHTTPRequestHandler looks up do_<METHOD>; answer every method.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, headers, body, head=False):
        self.send_response(status)
        names = {k.lower() for k, _ in headers}
        for k, v in headers:
            self.send_header(k, v)
        if status != 304 and status >= 200 and "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304 and body:
            self.wfile.write(body)

    def handle_any(self):
        st = self.server.state
        if self.server.stopping:
            # stopped: drop kept-alive connections without answering
            self.close_connection = True
            return
        body = self._body()
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("latin-1")}
        if self.path.startswith("/__ctl/"):
            return self._control(body)
        with st.lock:
            st.log.append(rec)
            n = len(st.log)
            route = st.routes.get(self.path) or st.routes.get("*")
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            # not real WebSocket framing: enough to prove the tunnel works
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            line = self.rfile.readline()
            self.wfile.write(b"echo:" + line)
            self.wfile.flush()
            self.close_connection = True
            return
        if self.command not in KNOWN_METHODS:
            return self._send(405, [("Allow", ", ".join(sorted(KNOWN_METHODS))),
                                    ("Content-Type", "text/plain")],
                              b"origin says 405 for " + self.command.encode())
        head = self.command == "HEAD"
        if route is None:
            return self._send(404, [("Cache-Control", "no-store"),
                                    ("Content-Type", "text/plain")], b"no route", head)
        headers = list(route["headers"])
        if route["etag"]:
            headers.append(("ETag", route["etag"]))
            inm = self.headers.get("If-None-Match")
            if inm and route["etag"] in [t.strip() for t in inm.split(",")]:
                return self._send(304, headers, b"")
        if route["last_modified"]:
            headers.append(("Last-Modified", route["last_modified"]))
            if (self.headers.get("If-Modified-Since") == route["last_modified"]
                    and not self.headers.get("If-None-Match")):
                return self._send(304, headers, b"")
        if route["body"] is None:  # echo
            out = json.dumps(dict(rec, n=n)).encode()
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", "application/json"))
        else:
            out = route["body"].encode()
        return self._send(route["status"], headers, out, head)

    def _control(self, body):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/__ctl/route" and self.command == "PUT":
            spec = json.loads(body or b"{}")
            st.set_route(q["path"], **spec)
            out = b"ok"
        elif u.path == "/__ctl/log":
            with st.lock:
                out = json.dumps(st.log).encode()
        elif u.path == "/__ctl/reset":
            st.reset()
            out = b"ok"
        else:
            return self._send(404, [], b"unknown control")
        self._send(200, [("Content-Type", "application/json")], out)


class Backend:
    """Threaded origin on 127.0.0.1; port 0 picks a free port."""

    def __init__(self, port=0):
        self.state = State()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state
        self.httpd.stopping = False
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        if self.httpd.stopping:
            return
        self.httpd.stopping = True
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    b = Backend(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"origin on 127.0.0.1:{b.port}", flush=True)
    try:
        b.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
