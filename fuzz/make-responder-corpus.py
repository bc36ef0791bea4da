#!/usr/bin/env python3
# make-responder-corpus.py PCAPDIR OUTDIR [DIALOGUE.pcap]: seeds for fuzz-responder.
import struct, sys, os, glob
# Seed corpus for fuzz-responder: runs of real capture frames in the
# harness's record format (ctl, len16, frame).
src, dst = sys.argv[1], sys.argv[2]
lmap = {1: 0, 101: 1, 0: 2, 113: 3, 276: 4}
for path in sorted(glob.glob(os.path.join(src, '*.pcap'))):
    b = open(path, 'rb').read()
    magic = struct.unpack('<I', b[:4])[0]
    end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    lt = struct.unpack(end + 'I', b[20:24])[0]
    if lt not in lmap: continue
    off, frames = 24, []
    while off + 16 <= len(b):
        ts, us, cl, wl = struct.unpack(end + 'IIII', b[off:off+16])
        frames.append((ts + us / 1e6, b[off+16:off+16+cl]))
        off += 16 + cl
    name = os.path.basename(path)[:-5]
    chunk = 24
    for k in range(0, min(len(frames), 24 * 6), chunk):
        out = bytearray()
        prev = frames[k][0]
        for t, f in frames[k:k+chunk]:
            step = max(0, min(15, int((t - prev) * 2)))
            prev = t
            f = f[:65535]
            out += bytes([lmap[lt] | (step << 4)]) + struct.pack('>H', len(f)) + f
        open(os.path.join(dst, '%s-%03d' % (name, k // chunk)), 'wb').write(out)

# The dialogue capture of test-sensord-replay (if given): ACK numbers
# patched by the harness (ctl bit 3) so handshakes complete under its seed.
if len(sys.argv) > 3:
    b = open(sys.argv[3], 'rb').read()
    end = '<' if struct.unpack('<I', b[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, out = 24, bytearray()
    while off + 16 <= len(b):
        ts, us, cl, wl = struct.unpack(end + 'IIII', b[off:off+16])
        f = b[off+16:off+16+cl]
        off += 16 + cl
        tcp_syn = len(f) > 47 and f[23] == 6 and (f[47] & 0x12) == 0x02
        out += bytes([0 if tcp_syn else 8]) + struct.pack('>H', len(f)) + f
    open(os.path.join(dst, 'dialogues'), 'wb').write(out)
