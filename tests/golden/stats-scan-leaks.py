#!/usr/bin/env python3
"""Scan every file under a directory for honeypot addresses and sensor
identities (vigia stats, issue 6, acceptance 3).

usage: stats-scan-leaks.py CONFIG DIR

Forbidden: every address of every sensor's IPv4 networks in its textual
forms (dotted quad, zero-padded quad, dashed, reversed and in-addr.arpa,
decimal integer, hex with and without 0x, IPv4-mapped IPv6 both ways);
for IPv6 networks, the network prefix in compressed, exploded and
ip6.arpa nibble form; each sensor's name, institution and city.  Every
file is scanned whole as bytes, case-insensitively; PNG text chunks
(tEXt, zTXt, iTXt) are also decompressed and scanned.  Exit 1 and one
line per hit when anything is found, 0 otherwise."""
import ipaddress
import os
import re
import shlex
import struct
import sys
import zlib


def parse_config(path):
    sensors, cur = [], None
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        w = shlex.split(line)
        if w[0] == "sensor":
            cur = {"name": w[1], "networks": [], "ids": []}
            sensors.append(cur)
        elif cur is not None and w[0] in ("institution", "city"):
            cur["ids"].append(w[1])
        elif cur is not None and w[0] == "network":
            cur["networks"] += [x for x in w[1:] if x not in ("{", "}")]
        if w[-1] == "}" and w[0] != "sensor":
            cur = None
    return sensors


def v4_forms(a):
    o = a.packed
    n = int(a)
    q = [str(b) for b in o]
    return {
        ".".join(q), ".".join("%03d" % b for b in o), "-".join(q),
        ".".join(reversed(q)), ".".join(reversed(q)) + ".in-addr.arpa",
        str(n), "%08x" % n, "0x%08x" % n,
        "::ffff:" + ".".join(q), "::ffff:%x:%x" % (n >> 16, n & 0xffff),
    }


def v6_forms(net):
    p = net.network_address
    nwords = max(1, net.prefixlen // 16)
    full = p.exploded.split(":")[:nwords]
    forms = {":".join(full) + ":"}
    short = ":".join(w.lstrip("0") or "0" for w in full)
    forms.add(short + ":")
    comp = str(p)
    if comp.endswith("::"):
        forms.add(comp)
    nib = p.exploded.replace(":", "")[: max(1, net.prefixlen // 4)]
    forms.add(".".join(reversed(nib)) + ".")
    return forms


def trie_regex(words):
    """One regex for many literals, shaped as their trie: a plain
    alternation of thousands of addresses tries each at every byte, the
    trie follows one path."""
    trie = {}
    for w in words:
        t = trie
        for ch in w:
            t = t.setdefault(ch, {})
        t[None] = True

    def rx(t):
        end = None in t
        alts = [re.escape(bytes([ch])) + rx(sub) for ch, sub in sorted(
            (k, v) for k, v in t.items() if k is not None)]
        if not alts:
            return b""
        body = alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"
        return b"(?:" + body + b")?" if end else body

    return rx(trie)


def png_text(data):
    out, i = [], 8
    while i + 8 <= len(data):
        ln, typ = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + ln]
        if typ == b"tEXt":
            out.append(body)
        elif typ == b"zTXt":
            k, _, rest = body.partition(b"\0")
            out.append(k + b" " + zlib.decompress(rest[1:]))
        elif typ == b"iTXt":
            k, _, rest = body.partition(b"\0")
            comp = rest[0]
            rest = rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tk, _, text = rest.partition(b"\0")
            out.append(k + b" " + (zlib.decompress(text) if comp else text))
        i += 12 + ln
    return b"\n".join(out)


def main():
    cfg, root = sys.argv[1], sys.argv[2]
    needles = set()
    for s in parse_config(cfg):
        needles.add(s["name"])
        needles.update(s["ids"])
        for n in s["networks"]:
            net = ipaddress.ip_network(n, strict=False)
            if net.version == 4:
                if net.num_addresses > 65536:
                    sys.exit("network %s too large to enumerate" % n)
                for a in net:
                    needles |= v4_forms(a)
            else:
                needles |= v6_forms(net)
    needles = sorted({x.lower().encode() for x in needles if x})
    rx = re.compile(trie_regex(needles))
    hits, nfiles = 0, 0
    for dp, dns, fns in os.walk(root):
        for fn in fns + [d for d in dns]:
            p = os.path.join(dp, fn)
            names = [os.path.relpath(p, root).encode().lower()]
            blobs = names
            if os.path.isfile(p) and not os.path.islink(p):
                nfiles += 1
                data = open(p, "rb").read()
                blobs = names + [data.lower()]
                if data[:8] == b"\x89PNG\r\n\x1a\n":
                    blobs.append(png_text(data).lower())
            for b in blobs:
                m = rx.search(b)
                if m:
                    print("LEAK: %s: %r" % (p, m.group(0).decode(errors="replace")))
                    hits += 1
                    break
    print("scanned %d files for %d forbidden strings: %d hit(s)" % (nfiles, len(needles), hits))
    sys.exit(1 if hits else 0)


main()
