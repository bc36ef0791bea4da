#!/usr/bin/env python3
"""Cut the fuzz-geo-rir seed corpus (fuzz/corpus/geo-rir) from the real
delegation files in tests/data/rir: each seed keeps a file's header and
summary lines and a few dozen records (asn, ipv4, ipv6; for the extended
files whole holders: every line of a few opaque ids), so seeds stay small
while covering every kind of line.  Run from the repository root."""
import os

RIR = 'tests/data/rir'
OUT = 'fuzz/corpus/geo-rir'


def lines(name):
    with open(os.path.join(RIR, name), 'rb') as f:
        return f.read().split(b'\n')


def head(ls):
    """A few comment lines, the version line and the summaries."""
    com, out = [], []
    for l in ls:
        if l.startswith(b'#'):
            com.append(l)
        elif not out:
            out.append(l)
        elif l.split(b'|')[1:2] == [b'*']:
            out.append(l)
        else:
            break
    return com[:4] + out


def pick(ls, kind, n, status=(b'allocated', b'assigned'), skip=0):
    out = []
    for l in ls:
        f = l.split(b'|')
        if len(f) >= 7 and f[2] == kind and f[1] != b'*' and f[6] in status:
            if skip:
                skip -= 1
                continue
            out.append(l)
            if len(out) == n:
                break
    return out


def holders(ls, ids, per=8):
    out = []
    for i in ids:
        got = [l for l in ls if l.split(b'|')[7:8] == [i]]
        for kind in (b'asn', b'ipv4', b'ipv6'):
            out += [l for l in got if l.split(b'|')[2] == kind][:per]
    return out


def ids_with_all_kinds(ls, n):
    kinds = {}
    for l in ls:
        f = l.split(b'|')
        if len(f) >= 8 and f[1] != b'*' and f[7]:
            kinds.setdefault(f[7], set()).add(f[2])
    return [i for i, k in kinds.items() if len(k) == 3][:n]


def write(name, ls):
    data = b'\n'.join(ls) + b'\n'
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


os.makedirs(OUT, exist_ok=True)

arin = lines('delegated-arin-extended-20260725.EXCERPT')
write('arin-extended', [l for l in arin if l])
write('arin-extended-crlf', [l + b'\r' for l in arin[:16] if l])

for rir, date in ((b'afrinic', b'20240105'), (b'lacnic', b'20240104')):
    ls = lines('delegated-%s-extended-%s' % (rir.decode(), date.decode()))
    write('%s-extended' % rir.decode(),
          head(ls) + holders(ls, ids_with_all_kinds(ls, 3)) +
          pick(ls, b'ipv4', 3, (b'available', b'reserved')) +
          pick(ls, b'ipv6', 2, (b'available', b'reserved')) +
          pick(ls, b'asn', 2, (b'available', b'reserved')))

for rir in ('apnic', 'ripencc'):
    ls = lines('delegated-%s-20140630' % rir)
    write('%s-plain' % rir,
          head(ls) + pick(ls, b'asn', 8) + pick(ls, b'ipv4', 12) + pick(ls, b'ipv6', 10) +
          pick(ls, b'ipv4', 3, (b'available', b'reserved')))

# A block transferred from APNIC (2014 file) to LACNIC (2024 file): two
# files separated by a NUL byte, as the harness reads them; the later file
# date wins for equal sizes, the more specific record wins otherwise.
apnic = lines('delegated-apnic-20140630')
lacnic = lines('delegated-lacnic-extended-20240104')
starts = (b'|27.50.12.0|', b'|103.7.13', b'|103.8.9')
ap = [l for l in apnic if l.startswith(b'apnic|JP|ipv4|') and any(s in l for s in starts)][:8]
la = [l for l in lacnic if b'|ipv4|' in l and any(s in l for s in starts)][:8]
ids = {l.split(b'|')[7] for l in la}
la += [l for l in lacnic if b'|asn|' in l and l.split(b'|')[7:8] and l.split(b'|')[7] in ids][:6]
with open(os.path.join(OUT, 'transfer-apnic-to-lacnic'), 'wb') as f:
    f.write(b'\n'.join(head(apnic)[4:] + ap) + b'\n\0' + b'\n'.join(head(lacnic) + la) + b'\n')
