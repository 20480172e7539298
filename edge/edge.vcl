vcl 4.1;
#
# edge.vcl - a local stand-in for Cloudflare's edge cache (Workers Caching)
# in front of `wrangler dev`.  Caching is driven only by the backend's
# response headers.  Started by scripts/edge.sh; see edge/README.md.
#
# Two listeners (both bound to 127.0.0.1 by scripts/edge.sh):
#   http   the public side: GET/HEAD are cached, every other method
#          (PURGE included) is passed to the backend.
#   purge  the purge side: ANY method is a purge request (see edge_purge).
#
# The backend is NOT defined here: scripts/edge.sh generates
# `edge_backend.vcl` (one `backend default { ... }`) in its work dir and puts
# that dir first in the `vcl_path` parameter, so the include finds it.
#
# Internal headers (all stripped before a client sees the answer):
#   x-edge-key    stored on the object: "<host><url>", target of prefix bans
#   x-edge-fetch  stored on the object: MISS / EXPIRED / REVALIDATED, or
#                 BYPASS / DYNAMIC on hit-for-miss objects
#   x-edge-vary   stored on the object: the origin's Vary (see below)
#   x-edge-cc     scratch copy of the targeted cache-control header
#   xkey          the object's cache tags for vmod_xkey (space separated)

import std;
import xkey;

include "edge_backend.vcl";

# Who may purge, checked on the purge listener as defence in depth (it is
# bound to 127.0.0.1 anyway).  Matched against client.ip: the peer address,
# or the address announced in a PROXY-protocol header on a ",PROXY" listener.
acl edge_purgers {
    "127.0.0.0"/8;
    "::1";
}

#######################################################################
# Client side

sub vcl_recv {
    # From the builtin VCL: lower-case Host; HTTP/1.1 without Host -> 400.
    call vcl_req_host;

    # Never trust our internal headers from outside.
    unset req.http.x-edge-purged;
    unset req.http.x-edge-tags;
    unset req.http.x-edge-re;

    if (local.socket == "purge") {
        # Any method: the Worker sends POST.  Never reaches the backend.
        call edge_purge;
    }
    if (req.method == "PRI") {
        # HTTP/2 connection preface on an HTTP/1 port (as in the builtin).
        return (synth(405));
    }
    if (req.http.Upgrade ~ "(?i)websocket") {
        # WebSockets (e.g. Durable Objects) are tunnelled untouched.
        return (pipe);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        # POST/PUT/PATCH/DELETE/OPTIONS and unknown methods (PURGE too: it
        # never purges on this listener): straight to the backend, body
        # included, never cached.  (The builtin VCL would *pipe* unknown
        # methods; we pass them so they get normal HTTP handling and the
        # backend's own answer, e.g. 405.)
        return (pass);
    }
    # Unlike the builtin VCL we do NOT pass requests that carry Cookie or
    # Authorization: like Cloudflare, the cache key is the URL alone and the
    # backend's response headers decide whether the answer is shared.
    # Query strings are part of the cache key (req.url), as on Cloudflare's
    # standard cache level; they are not sorted.
    return (hash);
}

sub vcl_pipe {
    # Upgrade/Connection are hop-by-hop: hand them on for the tunnel.
    if (req.http.Upgrade) {
        set bereq.http.Upgrade = req.http.Upgrade;
        set bereq.http.Connection = req.http.Connection;
    }
    unset bereq.http.X-Varnish;
}

# A request on the purge listener, whatever its method:
#   xkey-purge: t1 t2 | t1,t2   purge every object with any of these tags
#   x-purge-prefix: /p h/p ...  ban objects whose host+URL starts with one
#   x-purge-everything: 1       ban everything
#   none of them                purge this URL for this Host (all variants)
sub edge_purge {
    if (client.ip !~ edge_purgers) {
        return (synth(403, "Forbidden"));
    }
    if (req.http.x-purge-everything) {
        # obj.* only -> the ban lurker can clear objects in the background.
        if (!std.ban("obj.status != 0")) {
            return (synth(500, "Ban failed: " + std.ban_error()));
        }
        return (synth(200, "Purged everything"));
    }
    if (req.http.xkey-purge || req.http.x-purge-prefix) {
        if (req.http.xkey-purge) {
            # Tags as Cloudflare treats them: comma and/or space separated,
            # case-insensitive (Cache-Tag tags are lower-cased when stored).
            std.collect(req.http.xkey-purge, " ");
            set req.http.x-edge-tags = std.tolower(regsuball(
                req.http.xkey-purge, "[\s,]+", " "));
            set req.http.x-edge-purged = xkey.purge(req.http.x-edge-tags);
        }
        if (req.http.x-purge-prefix) {
            # One or more prefixes separated by spaces.  "/path..." matches
            # any host; "host/path..." (no scheme) matches that host only,
            # like Cloudflare's purge by prefix.  A plain string prefix:
            # "/projects" also matches "/projects-old" and "/projects?x".
            std.collect(req.http.x-purge-prefix, " ");
            if (req.http.x-purge-prefix ~ {"["?#]"}) {
                return (synth(400, "Prefix must not contain a query string, fragment or quote"));
            }
            # 1. trim, 2. escape regex metacharacters, 3. let "/..." entries
            # match any host, 4. join alternatives, 5. anchor.
            set req.http.x-edge-re = regsuball(req.http.x-purge-prefix,
                "^\s+|\s+$", "");
            if (req.http.x-edge-re == "") {
                return (synth(400, "Empty prefix"));
            }
            set req.http.x-edge-re = regsuball(req.http.x-edge-re,
                "([\\^$.|?*+()\[\]{}])", "\\\1");
            set req.http.x-edge-re = regsuball(req.http.x-edge-re,
                "(^|\s)/", "\1[^/]*/");
            set req.http.x-edge-re = "^(?:" +
                regsuball(req.http.x-edge-re, "\s+", "|") + ")";
            if (!std.ban("obj.http.x-edge-key ~ " + req.http.x-edge-re)) {
                return (synth(400, "Ban failed: " + std.ban_error()));
            }
        }
        return (synth(200, "Purged"));
    }
    # No purge header: purge this URL (every Vary variant) for this Host.
    return (purge);
}

sub vcl_purge {
    return (synth(200, "Purged URL"));
}

sub vcl_synth {
    unset resp.http.X-Varnish;
    unset resp.http.Via;
    if (local.socket == "purge" && resp.status == 200) {
        # JSON answer; "purged" is xkey.purge()'s count for tag purges and
        # null otherwise (bans and URL purges do not count objects).
        if (req.http.x-edge-purged) {
            set resp.http.x-purged = req.http.x-edge-purged;
        } else {
            set req.http.x-edge-purged = "null";
        }
        if (req.http.x-edge-re) {
            set resp.http.x-purge-ban = "obj.http.x-edge-key ~ " + req.http.x-edge-re;
        }
        set resp.http.Content-Type = "application/json";
        set resp.body = {"{"success":true,"message":""} + resp.reason +
            {"","purged":"} + req.http.x-edge-purged + "}" + {"
"};
        return (deliver);
    }
}

sub vcl_deliver {
    # Cloudflare-style cache status.
    if (obj.uncacheable) {
        # Request-level pass (no x-edge-fetch: DYNAMIC), or a hit-for-miss
        # object whose response said not to cache (BYPASS) or gave no
        # freshness information (DYNAMIC).
        if (resp.http.x-edge-fetch) {
            set resp.http.cf-cache-status = resp.http.x-edge-fetch;
        } else {
            set resp.http.cf-cache-status = "DYNAMIC";
        }
    } elsif (obj.hits > 0) {
        set resp.http.cf-cache-status = "HIT";
    } elsif (resp.http.x-edge-fetch) {
        # first delivery of a freshly stored object
        set resp.http.cf-cache-status = resp.http.x-edge-fetch;
    } else {
        set resp.http.cf-cache-status = "MISS";
    }
    # Cloudflare only sends Age on answers served from its cache.
    if (resp.http.cf-cache-status !~ "^(HIT|REVALIDATED)$" && resp.http.Age == "0") {
        unset resp.http.Age;
    }

    if (resp.http.x-edge-vary) {
        set resp.http.Vary = resp.http.x-edge-vary;
        unset resp.http.x-edge-vary;
    }
    unset resp.http.x-edge-fetch;
    unset resp.http.x-edge-key;
    unset resp.http.x-edge-cc;
    unset resp.http.xkey;
    unset resp.http.Cache-Tag;
    unset resp.http.Cloudflare-CDN-Cache-Control;
    # CDN-Cache-Control is forwarded downstream, as Cloudflare does.
    unset resp.http.X-Varnish;
    unset resp.http.Via;
}

#######################################################################
# Backend side

sub vcl_backend_fetch {
    # Keep the backend request free of Varnish noise.
    unset bereq.http.X-Varnish;
    unset bereq.http.Via;
}

sub vcl_backend_response {
    # Headers the backend must not be able to inject.
    unset beresp.http.x-edge-fetch;
    unset beresp.http.x-edge-cc;
    if (!beresp.was_304) {
        unset beresp.http.x-edge-vary;
    }

    if (bereq.uncacheable) {
        # Request-level pass (non-GET/HEAD): hand the answer over untouched;
        # vcl_deliver strips Cache-Tag & co. and says DYNAMIC.
        return (deliver);
    }

    set beresp.http.x-edge-key = bereq.http.host + bereq.url;

    # Cache-Tag: a,b,c (several header lines allowed) -> xkey: a b c
    if (beresp.http.Cache-Tag) {
        std.collect(beresp.http.Cache-Tag, ",");
        set beresp.http.xkey = std.tolower(regsuball(regsuball(
            beresp.http.Cache-Tag, "[\s,]+", " "), "^ | $", ""));
        unset beresp.http.Cache-Tag;
    } elsif (!beresp.was_304) {
        # 200 without tags: drop any xkey the backend sent itself.  (On a
        # 304 the merged headers carry the stored object's xkey: keep it.)
        unset beresp.http.xkey;
    }

    # Freshness is bounded: no serving stale after the TTL (must-revalidate
    # semantics for everything; stale-while-revalidate is ignored).
    set beresp.grace = 0s;
    set beresp.keep = 0s;

    # Targeted cache control (RFC 9213) wins over Cache-Control for the
    # edge: Cloudflare-CDN-Cache-Control, then CDN-Cache-Control.
    if (beresp.http.Cloudflare-CDN-Cache-Control) {
        std.collect(beresp.http.Cloudflare-CDN-Cache-Control);
        set beresp.http.x-edge-cc = beresp.http.Cloudflare-CDN-Cache-Control;
    } elsif (beresp.http.CDN-Cache-Control) {
        std.collect(beresp.http.CDN-Cache-Control);
        set beresp.http.x-edge-cc = beresp.http.CDN-Cache-Control;
    }

    if (beresp.http.x-edge-cc) {
        if (beresp.http.x-edge-cc ~ "(?i)(^|[\s,])(no-store|no-cache|private)\b") {
            call edge_bypass;
        }
        if (beresp.status != 200 && beresp.status != 203 &&
            beresp.status != 204 && beresp.status != 300 &&
            beresp.status != 301 && beresp.status != 302 &&
            beresp.status != 307 && beresp.status != 308 &&
            beresp.status != 404 && beresp.status != 410 &&
            beresp.status != 414) {
            call edge_bypass;
        }
        # Cache-Control and Expires do not count for the edge now.  The
        # TTL counts from the response's origin time: subtract its Age, as
        # Varnish core does for Cache-Control.
        if (beresp.http.x-edge-cc ~ "(?i)(^|[\s,])s-maxage\s*=\s*\x22?[0-9]") {
            set beresp.ttl = std.duration(regsub(beresp.http.x-edge-cc,
                "(?i)^(.*[\s,])?s-maxage\s*=\s*\x22?([0-9]+).*$", "\2") + "s", 0s)
                - beresp.age;
        } elsif (beresp.http.x-edge-cc ~ "(?i)(^|[\s,])max-age\s*=\s*\x22?[0-9]") {
            set beresp.ttl = std.duration(regsub(beresp.http.x-edge-cc,
                "(?i)^(.*[\s,])?max-age\s*=\s*\x22?([0-9]+).*$", "\2") + "s", 0s)
                - beresp.age;
        } else {
            call edge_dynamic;
        }
    } else {
        # Varnish core already set beresp.ttl from Cache-Control s-maxage,
        # then max-age, then Expires (minus Age), and -1 for uncacheable
        # status codes.
        if (beresp.http.Cache-Control ~ "(?i)(^|[\s,])(no-store|no-cache|private)\b") {
            call edge_bypass;
        }
        if (!beresp.http.Expires &&
            beresp.http.Cache-Control !~ "(?i)(^|[\s,])(s-maxage|max-age)\s*=") {
            # No freshness information: do not apply default_ttl.
            call edge_dynamic;
        }
    }

    if (beresp.ttl <= 0s) {
        # max-age=0 / s-maxage=0, Expires in the past, uncacheable status.
        call edge_bypass;
    }
    if (beresp.http.Set-Cookie) {
        call edge_bypass;
    }
    if (bereq.http.Authorization &&
        beresp.http.Cache-Control !~ "(?i)(^|[\s,])(public|s-maxage|must-revalidate)\b" &&
        beresp.http.x-edge-cc !~ "(?i)(^|[\s,])(public|s-maxage|must-revalidate)\b") {
        # RFC 9111 3.5, as Cloudflare does with Origin Cache Control.
        call edge_bypass;
    }
    # Vary, as Cloudflare without a Vary cache rule: "Vary: *" is never
    # cached; otherwise only Accept-Encoding splits the cache.  The origin's
    # full Vary is stored in x-edge-vary and restored for the client.
    if (beresp.was_304 && beresp.http.x-edge-vary) {
        set beresp.http.Vary = beresp.http.x-edge-vary;
    }
    if (beresp.http.Vary) {
        std.collect(beresp.http.Vary);
        if (beresp.http.Vary ~ "(^|[\s,])\*($|[\s,])") {
            call edge_bypass;
        }
        set beresp.http.x-edge-vary = beresp.http.Vary;
        if (beresp.http.Vary ~ "(?i)(^|[\s,])accept-encoding($|[\s,])") {
            set beresp.http.Vary = "Accept-Encoding";
        } else {
            unset beresp.http.Vary;
        }
    }

    # Cacheable.  Keep the object past its TTL when it has a validator, so
    # the next request after expiry revalidates with If-None-Match /
    # If-Modified-Since (a 304 refreshes the stored object).
    if (beresp.http.ETag || beresp.http.Last-Modified) {
        set beresp.keep = 1h;
    }
    if (beresp.was_304) {
        set beresp.http.x-edge-fetch = "REVALIDATED";
    } elsif (bereq.http.If-None-Match || bereq.http.If-Modified-Since) {
        # On a cache fetch Varnish drops the client's conditional headers,
        # so these were added by Varnish from a stale object: it was there
        # but expired, and the backend sent a new body.
        set beresp.http.x-edge-fetch = "EXPIRED";
    } else {
        set beresp.http.x-edge-fetch = "MISS";
    }
    unset beresp.http.x-edge-cc;
    return (deliver);
}

# Not to be stored, at the backend's request: a hit-for-miss object, so
# following requests go to the backend without waiting on each other, and a
# later cacheable answer can still be stored.
sub edge_bypass {
    set beresp.http.x-edge-fetch = "BYPASS";
    call edge_hitmiss;
}

# Not to be stored because the response carries no freshness information.
sub edge_dynamic {
    set beresp.http.x-edge-fetch = "DYNAMIC";
    call edge_hitmiss;
}

sub edge_hitmiss {
    unset beresp.http.xkey;
    unset beresp.http.x-edge-cc;
    set beresp.ttl = 120s;
    set beresp.grace = 0s;
    set beresp.keep = 0s;
    set beresp.uncacheable = true;
    return (deliver);
}
