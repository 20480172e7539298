#!/usr/bin/env python3
"""End-to-end checks of edge/edge.vcl + scripts/edge.sh against backend.py.

Starts an in-process origin on a free port and Varnish through scripts/edge.sh
on free ports (public listener + purge listener), runs every check, prints
PASS/FAIL per check and a closing "N passed, N failed" line, then stops
everything it started, by PID, whatever happens.  Exit status 0 = all passed.

    python3 edge/test/test_vcl.py
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EDGE_SH = os.path.join(REPO, "scripts", "edge.sh")
sys.path.insert(0, HERE)
from backend import Backend  # noqa: E402

RESULTS = []
STARTED = []        # Edge instances not yet stopped


def check(name, cond, detail=""):
    RESULTS.append((name, bool(cond)))
    print(f"{'PASS' if cond else 'FAIL'}  {name}" + ("" if cond or not detail else f"  -- {detail}"),
          flush=True)
    return bool(cond)


def free_ports(k):
    """k distinct free ports (all held open while picking, so no repeats)."""
    socks = []
    for _ in range(k):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body

    def h(self, name):
        name = name.lower()
        vals = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(vals) if vals else None

    def has(self, name):
        return self.h(name) is not None

    @property
    def cs(self):
        return self.h("cf-cache-status")

    def __repr__(self):
        return f"<{self.status} cs={self.cs} age={self.h('age')} body={self.body[:60]!r}>"


class Edge:
    """A varnishd started through scripts/edge.sh; stopped by PID."""

    def __init__(self, backend_port, purge_proto=None):
        self.port, self.purge_port = free_ports(2)
        self.workdir = tempfile.mkdtemp(prefix="edge-test-")
        self.child = None
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGE_")}
        if purge_proto:
            env["EDGE_PURGE_PROTO"] = purge_proto
        self.logf = open(os.path.join(self.workdir, "varnishd.out"), "w+")
        self.proc = subprocess.Popen(
            [EDGE_SH, str(self.port), str(self.purge_port), str(backend_port), self.workdir],
            stdout=self.logf, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        STARTED.append(self)
        try:
            self._wait_ready(deadline=time.monotonic() + 20)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, deadline):
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("varnishd exited:\n" + self.log())
            if "Child starts" in self.log() and all(_accepts(p) for p in (self.port, self.purge_port)):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("varnishd did not start:\n" + self.log())
            time.sleep(0.05)

    def log(self):
        self.logf.flush()
        with open(self.logf.name) as f:
            return f.read()

    def child_pid(self):
        m = re.search(r"Child \((\d+)\) Started", self.log())
        return int(m.group(1)) if m else None

    def stop(self):
        if self not in STARTED:
            return
        STARTED.remove(self)
        self.child = self.child_pid()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)   # the manager (edge.sh exec'd varnishd)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        # the cache child must be gone too
        if self.child:
            deadline = time.monotonic() + 5
            while pid_alive(self.child) and time.monotonic() < deadline:
                time.sleep(0.05)
            if pid_alive(self.child):
                os.kill(self.child, signal.SIGKILL)
        self.logf.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def req(self, method, path, headers=None, body=None, port=None):
        c = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=15)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        return Resp(r.status, r.getheaders(), data)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def purge(self, headers=None, path="/", method="POST", **kw):
        """A request on the purge listener (the Worker sends POST)."""
        return self.req(method, path, headers=headers, port=self.purge_port, **kw)

    def proxy_req(self, claimed_ip, raw_request):
        """One request on the purge listener when it speaks the PROXY protocol,
        claiming `claimed_ip` as the client (no packet goes to that address)."""
        s = socket.create_connection(("127.0.0.1", self.purge_port), timeout=10)
        try:
            s.sendall(f"PROXY TCP4 {claimed_ip} 127.0.0.1 40000 80\r\n".encode() + raw_request)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        return int(data.split(b" ", 2)[1]), data


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


CC_EDGE = "public, max-age=0, s-maxage=%d, must-revalidate"


def _on_sigterm(signum, frame):
    raise SystemExit(143)


def main():
    signal.signal(signal.SIGTERM, _on_sigterm)   # so the finally blocks still run
    origins = []
    edges = []
    try:
        origin = Backend().start()
        origins.append(origin)
        edge = Edge(origin.port)
        edges.append(edge)
        run_checks(edge, origin, origin.state, origins, edges)
    except Exception as e:  # a crash in the harness counts as a failure
        check(f"harness ran to the end ({type(e).__name__}: {e})", False)
    except (KeyboardInterrupt, SystemExit):
        check("harness ran to the end (interrupted)", False)
    finally:
        for e in list(STARTED):
            e.stop()
        for o in origins:
            o.stop()
        if edges:
            check("cleanup: every varnishd manager and child stopped by PID",
                  all(e.proc.poll() is not None and not pid_alive(e.child) for e in edges),
                  [(e.proc.pid, e.proc.poll(), e.child) for e in edges])
    failed = sum(1 for _, ok in RESULTS if not ok)
    passed = len(RESULTS) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still "exists": look at its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(t):
    """Let cache TTLs run out: sleep until time.monotonic() >= t."""
    while time.monotonic() < t:
        time.sleep(min(0.05, max(0.0, t - time.monotonic())))


def n(st, path, method=None):
    return len(st.requests(path, method))


def run_checks(edge, origin, st, origins, edges):
    E = edge

    # ---------------------------------------------------------------- 1
    print("# 1. scripts/edge.sh: backend configurable without editing the VCL")
    with open(os.path.join(E.workdir, "edge_backend.vcl")) as f:
        gen = f.read()
    check("edge.sh generated edge_backend.vcl with the backend port",
          f'.port = "{origin.port}";' in gen and '.host = "127.0.0.1";' in gen, gen)
    st.set_route("/r1", headers=[("Cache-Control", "no-store")], body="from origin 1")
    r = E.get("/r1")
    check("requests reach the configured backend", r.body == b"from origin 1" and n(st, "/r1") == 1, r)
    rc = subprocess.run([EDGE_SH, "notaport", "1", "2", "/tmp/nowhere"], capture_output=True, timeout=10).returncode
    check("edge.sh rejects a bad port (exit 2)", rc == 2, rc)
    rc = subprocess.run([EDGE_SH, "1", "2", "3"], capture_output=True, timeout=10).returncode
    check("edge.sh rejects missing arguments (exit 2)", rc == 2, rc)
    # Without varnishd on PATH (an empty directory: edge.sh needs only bash
    # builtins before that test), with a timeout should varnishd be found.
    with tempfile.TemporaryDirectory(prefix="edge-nopath-") as empty:
        try:
            p = subprocess.run([shutil.which("bash"), EDGE_SH, "1", "2", "3", os.path.join(empty, "w")],
                               capture_output=True, text=True, env=dict(os.environ, PATH=empty), timeout=10)
            got = (p.returncode, p.stderr)
        except subprocess.TimeoutExpired:
            got = ("timeout", "")
        check("without varnishd: exit 1 and the install hint",
              got[0] == 1 and "varnishd not found: apt-get install -y varnish varnish-modules" in got[1], got)

    # a second instance in front of a second origin, same edge.vcl, with its
    # purge listener speaking PROXY so the purge ACL can see a foreign client
    origin2 = Backend().start()
    origins.append(origin2)
    st2 = origin2.state
    st2.set_route("/r1", headers=[("Cache-Control", "no-store")], body="from origin 2")
    st2.set_route("/acl", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "acl")], body="acl")
    e2 = Edge(origin2.port, purge_proto="PROXY")
    edges.append(e2)
    try:
        r = e2.get("/r1")
        check("second instance, other backend port, same edge.vcl", r.body == b"from origin 2", r)
        e2.get("/acl")
        raw = b"POST / HTTP/1.1\r\nHost: x\r\nxkey-purge: acl\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        status, _ = e2.proxy_req("203.0.113.7", raw)
        check("purge listener: a non-loopback client (PROXY-announced) -> 403", status == 403, status)
        check("... and nothing was purged", e2.get("/acl").cs == "HIT")
        status, data = e2.proxy_req("127.0.0.1", raw)
        check("same purge claiming 127.0.0.1 -> 200, purged (control)",
              status == 200 and b"x-purged: 1" in data.lower() and e2.get("/acl").cs == "MISS", data[:300])
        origin2.stop()
        r = e2.get("/r1")
        check("backend down -> 503 from Varnish", r.status == 503, r)
    finally:
        e2.stop()

    # ---------------------------------------------------------------- 2
    print("# 2. caching follows the backend's headers")
    # Objects whose expiry is checked are fetched first, so that one wait
    # (wait_until below) serves them all.
    cc = CC_EDGE % 1
    st.set_route("/r2/smaxage", headers=[("Cache-Control", cc), ("Content-Type", "text/html")],
                 body="<p>page</p>")
    st.set_route("/r2/cdn-ttl",
                 headers=[("Cache-Control", CC_EDGE % 60), ("CDN-Cache-Control", "public, max-age=1")], body="x")
    st.set_route("/r2/cfcdn-ttl",
                 headers=[("Cache-Control", CC_EDGE % 60), ("CDN-Cache-Control", "max-age=60"),
                          ("Cloudflare-CDN-Cache-Control", "max-age=1")], body="x")
    st.set_route("/r2/cdn-age", headers=[("CDN-Cache-Control", "max-age=2"), ("Age", "1")], body="x")
    st.set_route("/r3", headers=[("Cache-Control", CC_EDGE % 60)], body="x")
    t0 = time.monotonic()
    r1, r2 = E.get("/r2/smaxage"), E.get("/r2/smaxage")
    a, b = E.get("/r2/cdn-ttl"), E.get("/r2/cdn-ttl")
    c, d = E.get("/r2/cfcdn-ttl"), E.get("/r2/cfcdn-ttl")
    ea, eb = E.get("/r2/cdn-age"), E.get("/r2/cdn-age")
    m3 = E.get("/r3")
    check("s-maxage: 1st MISS, 2nd HIT, origin hit once",
          (r1.cs, r2.cs, n(st, "/r2/smaxage")) == ("MISS", "HIT", 1), (r1, r2))
    check("Cache-Control passed to the client unchanged (max-age=0 kept)",
          r1.h("cache-control") == cc and r2.h("cache-control") == cc, r2.h("cache-control"))
    check("HIT body identical", r2.body == b"<p>page</p>", r2)
    check("CDN-Cache-Control / Cloudflare-CDN-Cache-Control cached", (a.cs, b.cs, c.cs, d.cs) ==
          ("MISS", "HIT", "MISS", "HIT"), (a, b, c, d))
    check("Cloudflare-CDN-Cache-Control stripped from the client answer, CDN-Cache-Control kept",
          not d.has("cloudflare-cdn-cache-control") and d.h("cdn-cache-control") == "max-age=60", d.headers)

    for path, ccv, want in [
        ("/r2/nostore", "no-store", "BYPASS"),
        ("/r2/private", "private, max-age=60", "BYPASS"),
        ("/r2/nocache", "public, no-cache, s-maxage=60", "BYPASS"),
        ("/r2/maxage0", "public, max-age=0", "BYPASS"),
        ("/r2/smaxage0", "public, max-age=60, s-maxage=0", "BYPASS"),
        ("/r2/nofresh", "public", "DYNAMIC"),
        ("/r2/nocc", None, "DYNAMIC"),
    ]:
        hdrs = [("Cache-Control", ccv)] if ccv else []
        st.set_route(path, headers=hdrs, body="x")
        a, b = E.get(path), E.get(path)
        check(f"{ccv or 'no Cache-Control'} -> not cached, {want}",
              a.cs == want and b.cs == want and n(st, path) == 2, (a, b, n(st, path)))

    st.set_route("/r2/maxage", headers=[("Cache-Control", "public, max-age=30")], body="x")
    a, b = E.get("/r2/maxage"), E.get("/r2/maxage")
    check("max-age without s-maxage is used by the edge too", (a.cs, b.cs) == ("MISS", "HIT"), (a, b))
    exp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))
    st.set_route("/r2/expires", headers=[("Expires", exp)], body="x")
    a, b = E.get("/r2/expires"), E.get("/r2/expires")
    check("Expires alone makes it cacheable", (a.cs, b.cs) == ("MISS", "HIT"), (a, b))
    st.set_route("/r2/500", status=500, headers=[("Cache-Control", CC_EDGE % 60)], body="err")
    a, b = E.get("/r2/500"), E.get("/r2/500")
    check("500 with s-maxage is not cached", a.status == 500 and b.cs == "BYPASS" and n(st, "/r2/500") == 2, (a, b))
    st.set_route("/r2/404", status=404, headers=[("Cache-Control", CC_EDGE % 60)], body="nf")
    a, b = E.get("/r2/404"), E.get("/r2/404")
    check("404 with s-maxage is cached", (a.status, b.status, b.cs) == (404, 404, "HIT"), (a, b))

    # CDN-Cache-Control
    st.set_route("/r2/cdn-over-nostore",
                 headers=[("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=30")], body="x")
    a, b = E.get("/r2/cdn-over-nostore"), E.get("/r2/cdn-over-nostore")
    check("CDN-Cache-Control: max-age=30 caches despite Cache-Control: no-store",
          (a.cs, b.cs, n(st, "/r2/cdn-over-nostore")) == ("MISS", "HIT", 1), (a, b))
    check("... client still gets Cache-Control: no-store, and CDN-Cache-Control (forwarded, as Cloudflare)",
          b.h("cache-control") == "no-store" and b.h("cdn-cache-control") == "max-age=30", b.headers)
    st.set_route("/r2/cdn-nostore",
                 headers=[("Cache-Control", CC_EDGE % 60), ("CDN-Cache-Control", "no-store")], body="x")
    a, b = E.get("/r2/cdn-nostore"), E.get("/r2/cdn-nostore")
    check("CDN-Cache-Control: no-store wins over s-maxage=60", (a.cs, b.cs) == ("BYPASS", "BYPASS"), (a, b))

    wait_until(t0 + 1.3)    # every TTL of 1 s set above has run out
    r3 = E.get("/r2/smaxage")
    check("after s-maxage seconds the object is refetched (MISS: no validator, nothing kept)",
          r3.cs == "MISS" and n(st, "/r2/smaxage") == 2, r3)
    a, c = E.get("/r2/cdn-ttl"), E.get("/r2/cfcdn-ttl")
    check("CDN-Cache-Control max-age=1 beats Cache-Control s-maxage=60 (expired after 1 s)",
          a.cs == "MISS" and n(st, "/r2/cdn-ttl") == 2, a)
    check("Cloudflare-CDN-Cache-Control max-age=1 beats CDN-Cache-Control max-age=60",
          c.cs == "MISS" and n(st, "/r2/cfcdn-ttl") == 2, c)
    ec = E.get("/r2/cdn-age")
    check("CDN-Cache-Control max-age counts the origin's Age (max-age=2, Age: 1 -> gone after 1.3 s)",
          (ea.cs, eb.cs, ec.cs) == ("MISS", "HIT", "MISS") and int(eb.h("age")) >= 1, (ea, eb, ec))

    # ---------------------------------------------------------------- 3
    print("# 3. cf-cache-status and Age")
    h3 = E.get("/r3")       # fetched (MISS) more than 1 s ago, above
    check("MISS has no Age (as Cloudflare), HIT has Age >= 1",
          m3.cs == "MISS" and not m3.has("age") and h3.cs == "HIT" and int(h3.h("age")) >= 1, (m3, h3))
    r = E.req("POST", "/r3", body=b"x")
    check("pass (POST) -> DYNAMIC", r.cs == "DYNAMIC", r)

    # ---------------------------------------------------------------- 4
    print("# 4. purges on the purge listener: tags, prefixes, URL, everything")
    st.set_route("/r4/p1", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "Project-1, projects")], body="p1")
    st.set_route("/r4/p2", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "project-2,projects,,")], body="p2")
    st.set_route("/r4/other", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "other")], body="o")
    st.set_route("/r4/multi", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "m-a"),
                                       ("Cache-Tag", "m-b")], body="m")
    paths = ["/r4/p1", "/r4/p2", "/r4/other", "/r4/multi"]
    first = [E.get(p) for p in paths]
    second = [E.get(p) for p in paths]
    check("tagged pages cached", all(r.cs == "HIT" for r in second), second)
    check("Cache-Tag and xkey never reach the client",
          all(not r.has("cache-tag") and not r.has("xkey") for r in first + second), first[0].headers)

    # the public listener never purges: PURGE is just another method there
    r = E.req("PURGE", "/", headers={"xkey-purge": "projects other m-a"})
    seen = st.requests("/", "PURGE")
    check("public port: PURGE + xkey-purge reaches the backend, which answers 405",
          r.status == 405 and b"origin says 405" in r.body and r.cs == "DYNAMIC" and len(seen) == 1
          and seen[0]["headers"].get("xkey-purge") == "projects other m-a", (r, seen))
    r = E.req("PURGE", "/r4/p1")
    check("public port: PURGE /url reaches the backend too (405)",
          r.status == 405 and n(st, "/r4/p1", "PURGE") == 1, r)
    r = E.req("PURGE", "/", headers={"x-purge-everything": "1"})
    check("public port: PURGE + x-purge-everything -> backend 405", r.status == 405, r)
    got = [E.get(p).cs for p in paths]
    check("... and nothing was purged", got == ["HIT"] * 4, got)

    r = E.purge({"xkey-purge": "PROJECT-1"})
    body = json.loads(r.body)
    check("purge port: POST xkey-purge (case-insensitive) -> 200 JSON with count 1",
          r.status == 200 and r.h("x-purged") == "1" and body == {"success": True, "message": "Purged",
                                                                "purged": 1}, (r, r.body))
    a, b = E.get("/r4/p1"), E.get("/r4/p2")
    check("... only the tagged object is gone", (a.cs, b.cs) == ("MISS", "HIT"), (a, b))
    r = E.purge({"xkey-purge": "projects other"})
    check("POST two tags (space separated) -> count 3", r.h("x-purged") == "3", (r, r.body))
    r = E.purge({"xkey-purge": "m-b"})
    check("several Cache-Tag header lines are all indexed", r.h("x-purged") == "1" and
          E.get("/r4/multi").cs == "MISS", r)
    for p in paths:
        E.get(p)
    r = E.purge({"xkey-purge": "projects,other"})
    check("POST comma separated tags", r.h("x-purged") == "3", r)
    for p in paths:
        E.get(p)
    got = []
    for m, tag in (("GET", "project-1"), ("PURGE", "project-2"), ("DELETE", "other"), ("PUT", "m-a")):
        r = E.purge({"xkey-purge": tag, "Content-Type": "text/plain"}, method=m,
                    body=b"ignored" if m == "PUT" else None)
        got.append((m, r.status, r.h("x-purged")))
    check("purge port: any method is a purge (GET, PURGE, DELETE, PUT with a body)",
          [g[1:] for g in got] == [(200, "1")] * 4 and all(E.get(p).cs == "MISS" for p in paths), got)
    before = len(st.requests())
    E.purge({"xkey-purge": "nothing-has-this"})
    E.purge(path="/r4/p1")
    E.purge({"x-purge-prefix": "/nothing/"})
    check("purge port: requests never reach the backend",
          len(st.requests()) == before and not any("xkey-purge" in q["headers"] and q["method"] != "PURGE"
                                                   for q in st.requests()))

    many = ",".join(f"tag-{i:04d}" for i in range(1000))   # ~9 KB, Cloudflare allows 16 KB
    st.set_route("/r4/bigtags", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", many)], body="big")
    a, b = E.get("/r4/bigtags"), E.get("/r4/bigtags")
    r = E.purge({"xkey-purge": "tag-0999"})
    check("1000 tags (~9 KB Cache-Tag) cached and purgeable by the last tag",
          (a.status, b.cs, r.h("x-purged")) == (200, "HIT", "1") and E.get("/r4/bigtags").cs == "MISS",
          (a, b, r))

    pp = ["/projects/a", "/projects/b?page=2", "/projectsX", "/about", "/dot/a.b", "/dot/aXb"]
    for p in pp:
        st.set_route(p, headers=[("Cache-Control", CC_EDGE % 60)], body=p)
        E.get(p)
    check("prefix candidates cached", all(E.get(p).cs == "HIT" for p in pp))
    r = E.purge({"x-purge-prefix": "/projects/"})
    got = [E.get(p).cs for p in pp]
    check("x-purge-prefix: /projects/ -> /projects/* (with query) gone, others kept",
          r.status == 200 and json.loads(r.body)["purged"] is None
          and got == ["MISS", "MISS", "HIT", "HIT", "HIT", "HIT"], (r, got))
    r = E.purge({"x-purge-prefix": "/dot/a.b /about"})
    got = [E.get(p).cs for p in pp]
    check("prefixes are literal (. is not a wildcard) and several can be given",
          got == ["HIT", "HIT", "HIT", "MISS", "MISS", "HIT"], (got, r.h("x-purge-ban")))
    st.set_route("/hp/x", headers=[("Cache-Control", CC_EDGE % 60)], body="hp")
    for host in ("h1.test", "h2.test"):
        E.get("/hp/x", headers={"Host": host})
    r = E.purge({"x-purge-prefix": "h1.test/hp/"})
    a, b = E.get("/hp/x", headers={"Host": "h1.test"}), E.get("/hp/x", headers={"Host": "h2.test"})
    check("host/path prefix only purges that host", (a.cs, b.cs) == ("MISS", "HIT"), (a, b))
    r = E.purge({"x-purge-prefix": "/projects/?page=2"})
    check("prefix with a query string -> 400", r.status == 400, r)
    st.set_route("/tp/x", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "tp")], body="tp")
    st.set_route("/tp2/y", headers=[("Cache-Control", CC_EDGE % 60)], body="tp2")
    E.get("/tp/x"), E.get("/tp2/y")
    r = E.purge({"xkey-purge": "tp", "x-purge-prefix": "/tp2/"})
    check("xkey-purge and x-purge-prefix in one request (as the Worker's coarse purge)",
          r.status == 200 and r.h("x-purged") == "1" and (E.get("/tp/x").cs, E.get("/tp2/y").cs) == ("MISS", "MISS"),
          r)

    st.set_route("/u/1", headers=[("Cache-Control", CC_EDGE % 60)], body="u1")
    st.set_route("/u/2", headers=[("Cache-Control", CC_EDGE % 60)], body="u2")
    E.get("/u/1"), E.get("/u/2")
    r = E.purge(path="/u/1")
    check("URL purge with the purge port's own Host leaves the public object (the key has the Host)",
          r.status == 200 and E.get("/u/1").cs == "HIT", r)
    r = E.purge(path="/u/1", headers={"Host": f"127.0.0.1:{E.port}"})
    a, b = E.get("/u/1"), E.get("/u/2")
    check("URL purge (no purge header, public Host) purges that URL only",
          r.status == 200 and (a.cs, b.cs) == ("MISS", "HIT"), (r, a, b))
    r = E.purge({"x-purge-everything": "1"})
    got = [E.get(p).cs for p in ("/u/1", "/u/2", "/r4/p2")]
    check("x-purge-everything: 1 -> everything MISS", r.status == 200 and got == ["MISS"] * 3, got)

    # ---------------------------------------------------------------- 5
    print("# 5. other methods pass through, bodies included")
    st.set_route("/r5/echo", headers=[("Cache-Control", CC_EDGE % 60), ("Cache-Tag", "echo")], body=None)
    for m in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        payload = f"body-of-{m}".encode()
        r = E.req(m, "/r5/echo", body=payload, headers={"Content-Type": "text/plain"})
        seen = st.requests("/r5/echo", m)
        ok = (r.status == 200 and r.cs == "DYNAMIC" and seen and seen[-1]["body"] == payload.decode()
              and not r.has("cache-tag"))
        check(f"{m} reaches the backend with its body, DYNAMIC", ok, (r, seen[-1:] if seen else None))
    r1 = E.req("POST", "/r5/echo", body=b"again")
    check("POST not cached even with s-maxage (backend hit again)",
          n(st, "/r5/echo", "POST") == 2 and json.loads(r1.body)["body"] == "again", r1)
    g = E.get("/r5/echo")
    check("a GET after POSTs is fetched as GET (not served from a POST answer)",
          g.cs == "MISS" and json.loads(g.body)["method"] == "GET", g)
    r = E.req("FROB", "/r5/echo", body=b"zzz")
    seen = st.requests("/r5/echo", "FROB")
    check("unknown method FROB reaches the backend, which answers 405",
          r.status == 405 and b"origin says 405" in r.body and seen and seen[0]["body"] == "zzz", (r, seen))

    # ---------------------------------------------------------------- 6
    print("# 6. query strings, cookies, Set-Cookie, Authorization")
    st.set_route("*", headers=[("Cache-Control", CC_EDGE % 60)], body=None)  # echo for any path
    a, b, c = E.get("/r6/q?a=1"), E.get("/r6/q?a=1"), E.get("/r6/q?a=2")
    check("query string is part of the cache key (cached per full URL)",
          (a.cs, b.cs, c.cs) == ("MISS", "HIT", "MISS"), (a, b, c))
    a, b = E.get("/r6/q?a=1&b=2"), E.get("/r6/q?b=2&a=1")
    check("query parameters are not sorted (as Cloudflare's default)", (a.cs, b.cs) == ("MISS", "MISS"), (a, b))
    a = E.get("/r6/public", headers={"Cookie": "sid=alice"})
    b = E.get("/r6/public", headers={"Cookie": "sid=bob"})
    seen = st.requests("/r6/public")
    check("request Cookie does not prevent caching of a public page",
          (a.cs, b.cs, len(seen)) == ("MISS", "HIT", 1), (a, b))
    check("... and the Cookie is forwarded to the backend on the miss",
          seen and seen[0]["headers"].get("cookie") == "sid=alice", seen)
    st.set_route("/r6/me", headers=[("Cache-Control", "private, no-store")], body=None)
    a = E.get("/r6/me", headers={"Cookie": "sid=alice"})
    b = E.get("/r6/me", headers={"Cookie": "sid=bob"})
    check("per-visitor page (private) -> BYPASS, each visitor's cookie reaches the backend",
          (a.cs, b.cs) == ("BYPASS", "BYPASS") and json.loads(b.body)["headers"]["cookie"] == "sid=bob", (a, b))
    st.set_route("/r6/vary", headers=[("Cache-Control", CC_EDGE % 60), ("Vary", "Cookie, Accept-Encoding")],
                 body=None)
    a = E.get("/r6/vary", headers={"Cookie": "sid=alice"})
    b = E.get("/r6/vary", headers={"Cookie": "sid=bob"})
    check("Vary: Cookie is ignored for the cache key (Cloudflare default), Vary kept for the client",
          (a.cs, b.cs) == ("MISS", "HIT") and b.h("vary") == "Cookie, Accept-Encoding", (a, b, b.h("vary")))
    st.set_route("/r6/varystar", headers=[("Cache-Control", CC_EDGE % 60), ("Vary", "*")], body="x")
    a, b = E.get("/r6/varystar"), E.get("/r6/varystar")
    check("Vary: * is never cached", (a.cs, b.cs) == ("BYPASS", "BYPASS") and b.h("vary") == "*", (a, b))
    st.set_route("/r6/setcookie", headers=[("Cache-Control", CC_EDGE % 60), ("Set-Cookie", "s=1; Path=/")], body="x")
    a, b = E.get("/r6/setcookie"), E.get("/r6/setcookie")
    check("response with Set-Cookie is not cached (BYPASS) and Set-Cookie reaches the client",
          (a.cs, b.cs, n(st, "/r6/setcookie")) == ("BYPASS", "BYPASS", 2) and b.h("set-cookie") == "s=1; Path=/",
          (a, b))
    st.set_route("/r6/auth-plain", headers=[("Cache-Control", "max-age=60")], body="x")
    st.set_route("/r6/auth-public", headers=[("Cache-Control", "public, max-age=60")], body="x")
    au = {"Authorization": "Bearer t"}
    a, b = E.get("/r6/auth-plain", headers=au), E.get("/r6/auth-plain", headers=au)
    c, d = E.get("/r6/auth-public", headers=au), E.get("/r6/auth-public", headers=au)
    check("Authorization: cached only if public/s-maxage/must-revalidate",
          (a.cs, b.cs, c.cs, d.cs) == ("BYPASS", "BYPASS", "MISS", "HIT"), (a, b, c, d))

    # ---------------------------------------------------------------- 7
    print("# 7. revalidation with If-None-Match / If-Modified-Since, grace 0")
    P, L, S = "/r7/etag", "/r7/lastmod", "/r7/swr"
    lm = "Tue, 01 Sep 2026 10:00:00 GMT"
    st.set_route(P, headers=[("Cache-Control", CC_EDGE % 1), ("Cache-Tag", "r7"), ("Vary", "Accept-Language")],
                 body="version-1", etag='"v1"')
    st.set_route(L, headers=[("Cache-Control", CC_EDGE % 1)], body="lm", last_modified=lm)
    st.set_route(S, headers=[("Cache-Control", "public, s-maxage=1, stale-while-revalidate=60")], body="old")
    t0 = time.monotonic()
    a, b = E.get(P), E.get(P)
    E.get(L), E.get(S)
    check("ETag object: MISS then HIT", (a.cs, b.cs, n(st, P)) == ("MISS", "HIT", 1), (a, b))
    st.set_route(S, headers=[("Cache-Control", "public, s-maxage=1, stale-while-revalidate=60")], body="new")
    wait_until(t0 + 1.3)
    c = E.get(P)
    seen = st.requests(P)
    check("stale -> conditional fetch with If-None-Match: \"v1\"",
          len(seen) == 2 and seen[1]["headers"].get("if-none-match") == '"v1"', seen[-1:])
    check("backend 304 -> REVALIDATED, stored body served", c.cs == "REVALIDATED" and c.status == 200
          and c.body == b"version-1" and c.h("age") == "0", c)
    d = E.get(P)
    check("the 304 refreshed the object: next request HIT, no backend request",
          d.cs == "HIT" and n(st, P) == 2, d)
    h = E.get(L)
    check("Last-Modified object revalidated with If-Modified-Since -> REVALIDATED",
          h.cs == "REVALIDATED" and st.requests(L)[-1]["headers"].get("if-modified-since") == lm, h)
    s = E.get(S)
    check("grace 0: stale-while-revalidate ignored, no stale answer after s-maxage", s.body == b"new", s)
    r = E.purge({"xkey-purge": "r7"})
    check("tags survive a 304 refresh (purge by tag still finds it)", r.h("x-purged") == "1", r)
    check("Vary survives a 304 refresh", c.h("vary") == "Accept-Language" and d.h("vary") == "Accept-Language",
          (c.h("vary"), d.h("vary")))
    t1 = time.monotonic()
    E.get(P)                # purged above: stored again as v1, then changed on the backend
    st.set_route(P, headers=[("Cache-Control", CC_EDGE % 1)], body="version-2", etag='"v2"')
    # client conditionals, meanwhile
    Q = "/r7/client-inm"
    st.set_route(Q, headers=[("Cache-Control", CC_EDGE % 60)], body="q", etag='"q1"')
    g = E.get(Q, headers={"If-None-Match": '"q1"'})
    check("client If-None-Match on a MISS: not forwarded, status MISS, 304 to the client",
          g.cs == "MISS" and g.status == 304 and "if-none-match" not in st.requests(Q)[0]["headers"], g)
    wait_until(t1 + 1.3)
    e = E.get(P)
    check("changed on the backend: conditional fetch gets 200 -> EXPIRED with the new body (never stale)",
          e.cs == "EXPIRED" and e.body == b"version-2" and st.requests(P)[-1]["headers"].get("if-none-match") == '"v1"',
          e)
    f = E.get(P, headers={"If-None-Match": '"v2"'})
    check("client If-None-Match on a HIT -> 304 from the cache", f.status == 304 and f.cs == "HIT", f)

    # ---------------------------------------------------------------- 8
    print("# 8. no Varnish noise")
    st.set_route("/r8", headers=[("Cache-Control", CC_EDGE % 60)], body=None)
    a, b = E.get("/r8"), E.get("/r8")
    p = E.req("POST", "/r8", body=b"x")
    purge = E.purge({"xkey-purge": "nothing"})
    check("no Via / X-Varnish in responses (miss, hit, pass, synth)",
          all(not r.has("via") and not r.has("x-varnish") for r in (a, b, p, purge)),
          [r.headers for r in (a, b, p, purge)])
    seen = st.requests("/r8")
    check("no Via / X-Varnish sent to the backend",
          all("via" not in s["headers"] and "x-varnish" not in s["headers"] for s in seen), seen[0]["headers"])
    check("no internal x-edge-* headers leak to clients",
          all(not any(k.lower().startswith("x-edge") for k, _ in r.headers) for r in (a, b, p, purge)))

    # ---------------------------------------------------------------- 9
    print("# 9. HEAD")
    H = "/r9/head"
    st.set_route(H, headers=[("Cache-Control", CC_EDGE % 60), ("Content-Type", "text/html")], body="hello head")
    a = E.req("HEAD", H)
    check("HEAD on a cold URL: MISS, no body, Content-Length of the GET body",
          a.status == 200 and a.cs == "MISS" and a.body == b"" and a.h("content-length") == "10", a)
    check("... Varnish fetched it from the backend as GET (stores the body)",
          [s["method"] for s in st.requests(H)] == ["GET"])
    b = E.get(H)
    c = E.req("HEAD", H)
    check("then GET is a HIT with the body, HEAD a HIT without",
          b.cs == "HIT" and b.body == b"hello head" and c.cs == "HIT" and c.body == b"" and n(st, H) == 1, (b, c))

    # ---------------------------------------------------------------- extra
    print("# extra: WebSocket upgrade is tunnelled (pipe)")
    s = socket.create_connection(("127.0.0.1", E.port), timeout=10)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.sendall(b"ping\n")
    rest = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    while b"\n" not in rest:
        chunk = s.recv(4096)
        if not chunk:
            break
        rest += chunk
    s.close()
    check("Upgrade: websocket -> 101 from the backend and bytes flow both ways",
          data.startswith(b"HTTP/1.1 101") and rest == b"echo:ping\n", (data, rest))


if __name__ == "__main__":
    sys.exit(main())
