#!/usr/bin/python3
"""multipartsink: an HTTP/1.1 peer on 127.0.0.1 that reads multipart/form-data uploads as they
stream in and keeps only a SHA-256 and a length per part, so a test can send gigabytes and check
them without either side holding the body.

Usage: multipartsink.py  -> prints "PORT <n>" once listening, serves until killed (or stdin
closes). Every POST is answered 200 with a JSON object:
  {"bytes": <body length>, "chunked": false,
   "parts": [{"name": ..., "filename": ... or null, "contentType": ... or null,
              "size": ..., "sha256": "<hex>"}, ...]}
A body that is not well-formed multipart gets 400 with {"error": "..."}.

The parser is incremental (RFC 2046 section 5.1.1): the delimiter "\\r\\n--boundary" is searched
for in a window that keeps its last len(delimiter) bytes for the next read, so a delimiter split
across two reads is still found, and part content is hashed as soon as it cannot be the start of
a delimiter.
"""
import hashlib
import json
import re
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler

READ_BYTES = 1 << 20


class MultipartError(Exception):
    pass


class StreamParser:
    def __init__(self, boundary):
        self.delimiter = b"\r\n--" + boundary
        # The first delimiter has no CRLF before it: pretend one was there.
        self.buffer = b"\r\n"
        self.state = "preamble"  # preamble, head, body, after, epilogue
        self.parts = []
        self.hash = None
        self.size = 0

    def feed(self, data):
        self.buffer += data
        while True:
            if self.state == "preamble":
                at = self.buffer.find(self.delimiter)
                if at < 0:
                    self.buffer = self.buffer[-len(self.delimiter):]
                    return
                self.buffer = self.buffer[at + len(self.delimiter):]
                self.state = "after"
            elif self.state == "after":
                if len(self.buffer) < 2:
                    return
                if self.buffer.startswith(b"--"):
                    self.state = "epilogue"
                    self.buffer = b""
                    return
                if not self.buffer.startswith(b"\r\n"):
                    raise MultipartError("no CRLF after a delimiter")
                self.buffer = self.buffer[2:]
                self.state = "head"
            elif self.state == "head":
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > 65536:
                        raise MultipartError("part head too long")
                    return
                self.start_part(self.buffer[:end].decode("utf-8"))
                self.buffer = self.buffer[end + 4:]
                self.state = "body"
            elif self.state == "body":
                at = self.buffer.find(self.delimiter)
                if at < 0:
                    keep = len(self.delimiter) - 1
                    if len(self.buffer) > keep:
                        self.content(self.buffer[:-keep])
                        self.buffer = self.buffer[-keep:]
                    return
                self.content(self.buffer[:at])
                self.end_part()
                self.buffer = self.buffer[at + len(self.delimiter):]
                self.state = "after"
            else:  # epilogue: ignored
                self.buffer = b""
                return

    def start_part(self, head):
        part = {"name": None, "filename": None, "contentType": None}
        for line in head.split("\r\n"):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            value = value.strip()
            if key == "content-disposition":
                for match in re.finditer(r';\s*(name|filename)="([^"]*)"', value):
                    part[match.group(1)] = match.group(2)
            elif key == "content-type":
                part["contentType"] = value
        self.parts.append(part)
        self.hash = hashlib.sha256()
        self.size = 0

    def content(self, data):
        self.hash.update(data)
        self.size += len(data)

    def end_part(self):
        self.parts[-1]["size"] = self.size
        self.parts[-1]["sha256"] = self.hash.hexdigest()

    def finish(self):
        if self.state != "epilogue":
            raise MultipartError("the body ended in state " + self.state)
        return self.parts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        match = re.search(r'boundary="?([^";]+)"?', self.headers.get("Content-Type", ""))
        if not match:
            self.close_connection = True
            return self.answer(400, {"error": "no boundary"})
        parser = StreamParser(match.group(1).encode())
        total = 0
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        try:
            if chunked:
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    left = size
                    while left:
                        data = self.rfile.read(min(left, READ_BYTES))
                        if not data:
                            raise MultipartError("the connection closed in a chunk")
                        left -= len(data)
                        total += len(data)
                        parser.feed(data)
                    self.rfile.readline()
            else:
                left = int(self.headers.get("Content-Length", "0"))
                while left:
                    data = self.rfile.read(min(left, READ_BYTES))
                    if not data:
                        raise MultipartError("the connection closed %d bytes early" % left)
                    left -= len(data)
                    total += len(data)
                    parser.feed(data)
            parts = parser.finish()
        except (MultipartError, ValueError, UnicodeDecodeError) as e:
            self.close_connection = True
            return self.answer(400, {"error": str(e)})
        self.answer(200, {"bytes": total, "chunked": chunked, "parts": parts})


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # the test closes stdin (or kills us) to stop the peer


if __name__ == "__main__":
    main()
