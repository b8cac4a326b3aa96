#!/usr/bin/python3
"""Writes the seed corpus of fuzz_http2 (tests/fuzz/corpus/http2/): what a server might answer
to the three requests the target submits (GET on stream 1, POST with a body on 3, HEAD on 5).

Each file is one control byte (fuzz_http2.cpp: bit 0 small limits, bit 1 a 1000-byte stream
window, the rest where the input is cut) and the server's bytes. Run it again after changing
it; the files are committed.
"""
import os
import struct
import sys

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def hint(first, bits, value):
    top = (1 << bits) - 1
    if value < top:
        return bytes([first | value])
    out = bytearray([first | top])
    value -= top
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hstr(s):
    return hint(0, 7, len(s)) + s


def literal(name, value, index=False):
    return bytes([0x40 if index else 0x00]) + hstr(name) + hstr(value)


def indexed(i):
    return hint(0x80, 7, i)


STATUS_200, STATUS_204, STATUS_304, STATUS_404 = indexed(8), indexed(9), indexed(11), \
    indexed(13)
PREFACE = frame(SETTINGS, 0, 0, struct.pack(">HI", 3, 100) + struct.pack(">HI", 4, 65535)) + \
    frame(SETTINGS, ACK, 0)


def block(*fields):
    return b"".join(fields)


SEEDS = {
    "simple": PREFACE
    + frame(HEADERS, END_HEADERS, 1, STATUS_200 + literal(b"content-type", b"text/plain"))
    + frame(DATA, END_STREAM, 1, b"hello")
    + frame(HEADERS, END_HEADERS | END_STREAM, 3, indexed(8))
    + frame(HEADERS, END_HEADERS | END_STREAM, 5,
            STATUS_200 + literal(b"content-length", b"10")),
    "interim-and-trailers": PREFACE
    + frame(HEADERS, END_HEADERS, 1, literal(b":status", b"103") + literal(b"link", b"</a>"))
    + frame(HEADERS, END_HEADERS, 1, STATUS_200)
    + frame(DATA, 0, 1, b"abc")
    + frame(DATA, 0, 1, b"def")
    + frame(HEADERS, END_HEADERS | END_STREAM, 1, literal(b"grpc-status", b"0")),
    "resets-and-goaway": PREFACE
    + frame(RST_STREAM, 0, 3, struct.pack(">I", 8))
    + frame(PING, 0, 0, b"12345678")
    + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1000))
    + frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", 1000))
    + frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0) + b"bye")
    + frame(HEADERS, END_HEADERS | END_STREAM, 1, STATUS_404),
    "continuation": PREFACE
    + frame(HEADERS, 0, 1, STATUS_200)
    + frame(CONTINUATION, 0, 1, literal(b"x-a", b"1"))
    + frame(CONTINUATION, END_HEADERS, 1, literal(b"x-b", b"2"))
    + frame(DATA, END_STREAM, 1, b"body"),
    "padding-and-priority": PREFACE
    + frame(HEADERS, END_HEADERS | PADDED | PRIO, 1,
            bytes([4]) + struct.pack(">I", 0) + bytes([16]) + STATUS_200 + b"\0" * 4)
    + frame(DATA, PADDED | END_STREAM, 1, bytes([3]) + b"xyz" + b"\0" * 3)
    + frame(PRIORITY, 0, 3, struct.pack(">I", 1) + bytes([32])),
    "dynamic-table": PREFACE
    + frame(HEADERS, END_HEADERS, 1, STATUS_200 + literal(b"x-set", b"value", True))
    + frame(HEADERS, END_HEADERS | END_STREAM, 3, STATUS_204 + indexed(62))
    + frame(HEADERS, END_HEADERS | END_STREAM, 5, STATUS_304 + indexed(62) + hint(0x20, 5, 0))
    + frame(DATA, END_STREAM, 1, b"ok"),
    "content-length-mismatch": PREFACE
    + frame(HEADERS, END_HEADERS, 1, STATUS_200 + literal(b"content-length", b"3"))
    + frame(DATA, END_STREAM, 1, b"too long")
    + frame(HEADERS, END_HEADERS, 3, STATUS_200 + literal(b"content-length", b"300"))
    + frame(DATA, END_STREAM, 3, b"x" * 200),
    "window": PREFACE
    + frame(HEADERS, END_HEADERS, 1, STATUS_200)
    + b"".join(frame(DATA, 0, 1, b"d" * 400) for _ in range(4))
    + frame(HEADERS, END_HEADERS | END_STREAM, 5, STATUS_200),
}

# Control bytes: default limits, small limits, a small window, both.
CONTROLS = {"": 0x00, "-small-limits": 0x45, "-small-window": 0x8a, "-small-both": 0xd3}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http2")
    os.makedirs(out, exist_ok=True)
    for name, payload in SEEDS.items():
        for suffix, control in CONTROLS.items():
            with open(os.path.join(out, name + suffix), "wb") as f:
                f.write(bytes([control]) + payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
