#!/usr/bin/env python3
"""badsend.py: bad datagrams for siplb's SIP VIPs (tests/e2e/test_bad_input.sh), each
kind labelled with the drop reason siplb must count for it (include/siplb_reasons.h).

    badsend.py send VIP4 VIP6 PORT ROUNDS PPS     (env CL4, CL6: our own addresses)
    badsend.py dump DIR ROUNDS

send: ROUNDS rounds, each of every UDP kind below to both VIPs and one datagram per
family whose UDP length disagrees with its IP length (raw sockets: root), paced at PPS
datagrams/s; prints {"reason": datagrams sent, ...} as one JSON line.
dump: writes the UDP payloads of ROUNDS rounds to DIR/REASON-ROUND-K.bin (to check them
with `siplbctl parse`), sends nothing.
Every payload carries "siplb-bad-input", so a backend that saw one would log it."""
import json
import os
import random
import socket
import struct
import sys
import time

MARK = b"siplb-bad-input"


def sip(start, hdrs, body=b""):
    return start + b"\r\n" + b"".join(h + b"\r\n" for h in hdrs) + b"\r\n" + body


def variants(i):
    """(reason, payload) pairs; i makes the Call-IDs and branches unique."""
    n = str(i).encode()
    via = b"Via: SIP/2.0/UDP 198.18.0.100:5099;branch=z9hG4bK-" + MARK + b"-" + n
    frm = b"From: <sip:bad@" + MARK + b".test>;tag=" + n
    to = b"To: <sip:service@callee.siplb.test>"
    cid = b"Call-ID: " + MARK + b"-" + n + b"@198.18.0.100"
    cseq = b"CSeq: 1 INVITE"
    cl = b"Content-Length: 0"
    rnd = random.Random(i)
    garbage = bytes([rnd.randrange(128, 256)]) + rnd.randbytes(rnd.randrange(20, 400)) + MARK
    full = sip(b"INVITE sip:service@callee.siplb.test SIP/2.0", [via, frm, to, cid, cseq, cl])
    return [
        ("not_sip", garbage),
        ("not_sip", b"GET /" + MARK + b" HTTP/1.1\r\nHost: " + MARK + b"\r\n\r\n"),
        ("not_sip", b"\x16\x03\x01\x00\x2a\x01\x00\x00\x26\x03\x03" + MARK),  # TLS ClientHello over UDP
        ("not_sip", struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + b"\x0f" + MARK + b"\x00\x00\x01\x00\x01"),  # DNS query
        ("truncated", full[: full.index(b"CSeq")] + b"CSeq: 1 INV"),
        ("truncated", full[: full.index(b"Call-ID") + 12]),
        ("no_call_id", sip(b"INVITE sip:service@callee.siplb.test SIP/2.0", [via, frm, to, cseq, cl])),
        ("no_call_id", sip(b"OPTIONS sip:" + MARK + b"@callee.siplb.test SIP/2.0", [via, frm, to, b"Call-ID: ", cseq, cl])),
        ("no_via", sip(b"INVITE sip:service@callee.siplb.test SIP/2.0", [frm, to, cid, cseq, cl])),
        ("duplicate_call_id", sip(b"INVITE sip:service@callee.siplb.test SIP/2.0", [via, frm, to, cid, cid + b"x", cseq, cl])),
        ("malformed", sip(b"SIP/2.0 2x0 OK", [via, frm, to, cid, cseq, cl])),
    ]


def raw_bad_l3(fam, src, dst, port, i):
    """A UDP datagram whose UDP length disagrees with the IP length."""
    payload = sip(b"OPTIONS sip:" + MARK + b"@callee.siplb.test SIP/2.0",
                  [b"Via: SIP/2.0/UDP x;branch=z9hG4bK-" + str(i).encode(), b"Call-ID: " + MARK + b"-l3-" + str(i).encode()])
    udp = struct.pack("!HHHH", 5098, port, 8 + len(payload) + 16, 0) + payload
    if fam == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, socket.IPPROTO_UDP, 0,
                         socket.inet_pton(socket.AF_INET, src), socket.inet_pton(socket.AF_INET, dst))
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp), socket.IPPROTO_UDP, 64,
                         socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return ip + udp


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "dump":
        for i in range(int(sys.argv[3])):
            for k, (reason, p) in enumerate(variants(i)):
                with open(os.path.join(sys.argv[2], "%s-%d-%d.bin" % (reason, i, k)), "wb") as f:
                    f.write(p)
        return
    if len(sys.argv) != 7 or sys.argv[1] != "send":
        sys.exit(__doc__)
    vip4, vip6, port, rounds, pps = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    cl4, cl6 = os.environ["CL4"], os.environ["CL6"]
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = {}
    gap = 1.0 / pps
    nxt = time.monotonic()
    for i in range(rounds):
        out = []
        for reason, p in variants(i):
            out.append((reason, s4, p, (vip4, port)))
            out.append((reason, s6, p, (vip6, port)))
        out.append(("bad_l3", r4, raw_bad_l3(4, cl4, vip4, port, i), (vip4, 0)))
        out.append(("bad_l3", r6, raw_bad_l3(6, cl6, vip6, port, i), (vip6, 0)))
        for reason, s, p, dst in out:
            now = time.monotonic()
            if nxt > now:
                time.sleep(nxt - now)
            nxt += gap
            s.sendto(p, dst)
            sent[reason] = sent.get(reason, 0) + 1
    print(json.dumps(sent, sort_keys=True))


main()
