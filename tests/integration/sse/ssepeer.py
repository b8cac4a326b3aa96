#!/usr/bin/python3
"""A streaming text/event-stream server for Reqivo's SSE tests (Python's http.server only).

Listens on 127.0.0.1 on a free port and prints that port on the first line of stdout; runs until
killed. Every stream is a real HTTP/1.1 response written by hand, so the framing is exact:

  /events?n=N              N events "data: event <i>" with "id: <i>", i counting from the request's
                           Last-Event-ID + 1 (or 1); then the response ends
     &framing=F            chunked (default), length (Content-Length) or close (close-delimited)
     &gzip=1               Content-Encoding: gzip, flushed after every event (Z_SYNC_FLUSH)
     &comment=1            a ": keep-alive" comment line before every event
     &retry=MS             a "retry: MS" field first
     &interval=MS          wait MS between events (server-side timer, not the client's)
     &drop=K               after event K (of this response), cut the connection without ending
                           the response (chunked: no last chunk)
     &type=T               "event: T" on every event
  /silent                  a 200 text/event-stream head, then nothing for ever
  /status?code=C           answers C with an empty body (204, 500, ...)
  /wrongtype               200 with Content-Type: text/plain and one event-looking line
  /chat (POST)             a JSON body {"prompt": "..."} is answered with one event per word of
                           the prompt, each {"t": "<word>"}, then "data: [DONE]", and the
                           response stays open (as LLM APIs keep it open briefly) until
                           ?linger=MS (default 0) has passed
  /log                     JSON: every request seen so far, [{"path", "method", "lastEventId",
                           "accept", "cacheControl", "body", "authorization", "contentType"}],
                           in order

Each connection is handled in its own thread.
"""
import json
import socket
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _record(self, body=b""):
        with LOG_LOCK:
            LOG.append({
                "path": self.path,
                "method": self.command,
                "lastEventId": self.headers.get("Last-Event-ID"),
                "accept": self.headers.get("Accept"),
                "cacheControl": self.headers.get("Cache-Control"),
                "body": body.decode("utf-8", "replace"),
                "authorization": self.headers.get("Authorization"),
                "contentType": self.headers.get("Content-Type"),
            })

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self):
        body = self._read_body()
        self._record(body)
        self.route(body)

    def do_GET(self):
        self._record()
        self.route(b"")

    def route(self, body):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        path = parsed.path
        if path == "/log":
            with LOG_LOCK:
                payload = json.dumps(LOG).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif path == "/events":
            self.events(query)
        elif path == "/silent":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            while True:
                time.sleep(3600)
        elif path == "/status":
            code = int(query.get("code", "204"))
            self.send_response(code)
            if code != 204:
                self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/wrongtype":
            payload = b"data: not an event stream\n\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif path == "/chat" and self.command == "POST":
            self.chat(body, query)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    # --- writing a stream with exact framing ---------------------------------------------------

    def start_stream(self, framing, gzip, length=None):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        if framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif framing == "length":
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

    def write_piece(self, framing, data):
        if not data:
            return
        if framing == "chunked":
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def end_stream(self, framing):
        if framing == "chunked":
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        if framing == "close":
            self.connection.shutdown(socket.SHUT_WR)

    def drop(self):
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.connection.close()

    def events(self, query):
        n = int(query.get("n", "3"))
        framing = query.get("framing", "chunked")
        gzip = query.get("gzip") == "1"
        comment = query.get("comment") == "1"
        retry = query.get("retry")
        interval = int(query.get("interval", "0")) / 1000.0
        drop = int(query.get("drop", "0"))
        etype = query.get("type")
        last = self.headers.get("Last-Event-ID")
        first = int(last) + 1 if last and last.isdigit() else 1

        pieces = []
        if retry:
            pieces.append(b"retry: %s\n\n" % retry.encode())
        for i in range(first, first + n):
            event = b""
            if comment:
                event += b": keep-alive\n"
            if etype:
                event += b"event: %s\n" % etype.encode()
            event += b"id: %d\ndata: event %d\n\n" % (i, i)
            pieces.append(event)
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip else None

        def encode(piece):
            if compressor is None:
                return piece
            return compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)

        encoded = [encode(p) for p in pieces]
        tail = compressor.flush(zlib.Z_FINISH) if compressor else b""
        self.start_stream(framing, gzip, sum(len(e) for e in encoded) + len(tail))
        sent = 0
        for index, data in enumerate(encoded):
            if interval and index:
                time.sleep(interval)
            self.write_piece(framing, data)
            if retry and index == 0:
                continue
            sent += 1
            if drop and sent == drop:
                self.drop()
                return
        self.write_piece(framing, tail)
        self.end_stream(framing)

    def chat(self, body, query):
        try:
            prompt = json.loads(body.decode()).get("prompt", "")
        except (ValueError, AttributeError):
            prompt = ""
        self.start_stream("chunked", False)
        for word in prompt.split():
            self.write_piece("chunked", b"data: %s\n\n" % json.dumps({"t": word}).encode())
        self.write_piece("chunked", b"data: [DONE]\n\n")
        linger = int(query.get("linger", "0")) / 1000.0
        if linger:
            time.sleep(linger)
        self.end_stream("chunked")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
