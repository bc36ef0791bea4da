#!/usr/bin/env python3
"""Local stand-ins for the registries, for the contact-lookup tests.

Serves the real registry answers in DATA (tests/data/whois) on 127.0.0.1:
  - RDAP over HTTP: GET /rdap/ip/ADDR -> rdap/*_ADDR.json (':' as '_'),
    404 otherwise; /moved/ip/ADDR redirects (301) to /rdap/ip/ADDR;
  - a referring whois server (like whois.iana.org / ARIN): for 200.x
    queries an ARIN-style "ReferralServer: whois://127.0.0.1:PORT", for the
    others an IANA-style "refer: 127.0.0.1" (the port left to the client);
  - a registry whois server answering raw/*_ADDR.txt.
Prints "RDAP_PORT REFER_PORT WHOIS_PORT" on one line, then serves until
its standard input closes (so it never outlives the test).  Every query
is appended to LOG when given.
"""
import glob
import http.server
import os
import socketserver
import sys
import threading

DATA = sys.argv[1]
LOG = sys.argv[2] if len(sys.argv) > 2 else None
lock = threading.Lock()


def log(what):
    if LOG:
        with lock, open(LOG, "a") as f:
            f.write(what + "\n")


def find(kind, ext, addr):
    key = addr.strip().replace(":", "_")
    for p in glob.glob(os.path.join(DATA, kind, "*" + ext)):
        base = os.path.basename(p)[: -len(ext)]
        if base.split("_", 1)[1] == key:
            with open(p, "rb") as f:
                return f.read()
    return None


class Rdap(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        log("rdap " + self.path)
        if self.path.startswith("/moved/ip/"):
            self.send_response(301)
            self.send_header("Location", "/rdap/ip/" + self.path[len("/moved/ip/"):])
            self.end_headers()
            return
        body = None
        if self.path.startswith("/rdap/ip/"):
            body = find("rdap", ".json", self.path[len("/rdap/ip/"):])
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Whois(socketserver.StreamRequestHandler):
    def handle(self):
        q = self.rfile.readline(512).decode("ascii", "replace").strip()
        log("%s %s" % (self.server.role, q))
        if self.server.role == "refer":
            if q.startswith("200."):
                ans = "NetRange: 200.0.0.0 - 200.255.255.255\nReferralServer: whois://127.0.0.1:%d\n" % WHOIS_PORT
            else:
                ans = "% IANA WHOIS server\nrefer:        127.0.0.1\n\nwhois:        127.0.0.1\n"
            self.wfile.write(ans.encode())
            return
        body = find("raw", ".txt", q)
        self.wfile.write(body if body is not None else b"% no entries found\n")


class TS(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


rdap = TS(("127.0.0.1", 0), Rdap)
refer = TS(("127.0.0.1", 0), Whois)
refer.role = "refer"
whois = TS(("127.0.0.1", 0), Whois)
whois.role = "whois"
WHOIS_PORT = whois.server_address[1]
for s in (rdap, refer, whois):
    threading.Thread(target=s.serve_forever, daemon=True).start()
print(rdap.server_address[1], refer.server_address[1], WHOIS_PORT, flush=True)
sys.stdin.read()
