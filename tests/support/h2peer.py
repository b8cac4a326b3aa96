#!/usr/bin/python3
"""A scripted HTTP/2 server for Reqivo's tests: exact frames and faults on loopback.

    h2peer.py --scenario NAME [--tls CERT KEY]

Binds 127.0.0.1 on a port the kernel picks, prints "PORT <n>" on stdout once it listens, and
serves until its stdin closes (so a test that crashes never leaves it behind). It logs what it
sees to stderr, one line per event. Cleartext HTTP/2 with prior knowledge by default; with --tls,
TLS with ALPN "h2" only. Built on Debian's python3-h2 (and hyperframe for the frames h2 itself
refuses to send).

Every scenario answers like "ok" unless it says otherwise. Every response carries
x-connection (the connection's number, from 1, in accept order), x-stream-id, and
x-max-concurrent: the most streams that were open on this connection when one opened after the
client had acknowledged our SETTINGS (a client obeying SETTINGS_MAX_CONCURRENT_STREAMS keeps it
at or below the limit; streams sent before it knew the limit are not counted).

ok      GET/HEAD by path:
          /slow/N            the usual answer, after N ms (also for requests with a body)
          /large/N           N bytes, byte i = i % 251, with content-length
          /trailers          body "hello /trailers", then trailers x-checksum: its SHA-256 (hex)
          /status/N          status N, empty body
          /once/N            status N (empty body, retry-after: 0) the first time this exact
                             path is asked for, then the usual answer
          /redirect-h1?to=U  302 with Location U (also /redirect?to=U&status=N)
          /headers           the request's header fields as a JSON object (pseudo-headers too;
                             repeated names joined with ", ", cookie crumbs with "; ")
          /set-cookie?n=v    sets cookie n=v (default h2peer=1), Path=/
          /cookie            the request's Cookie header (crumbs joined with "; ") as the body
          /gzip              a gzip-compressed body (content-encoding: gzip) of "hello /gzip" x 100
          /drip/N/MS         N DATA frames "chunk <i>\\n", one every MS ms
          /hang              never answers; /hang-body: headers, then nothing
          /stats             JSON: connections, requests, resets and GOAWAYs received so far
          anything else      200 "hello <path>" (text/plain, content-length)
        A request with a body (or POST, PUT, PATCH) is read whole and answered 200 with headers
        x-received-bytes and x-received-sha256, and the body itself when under 1 MiB.
count   the same as ok (every answer carries x-connection and x-stream-id anyway).
goaway  connection 1 answers its first request; the next request on it is answered with
        GOAWAY(NO_ERROR, last-stream-id = that first stream), and the connection closes once the
        first response is complete. Later connections behave as ok.
refuse  the first attempt of every path is refused with RST_STREAM(REFUSED_STREAM), on whatever
        connection; a retry of the same path succeeds. Paths under /refuse-always/ are refused
        every time.
reset   /reset: response headers, then RST_STREAM(INTERNAL_ERROR); /reset-early: RST_STREAM
        before any headers; /reset-body: headers and 1000 bytes, then RST_STREAM.
maxstreams1          SETTINGS_MAX_CONCURRENT_STREAMS = 1.
nowindow             SETTINGS_INITIAL_WINDOW_SIZE = 0 and never a WINDOW_UPDATE: a request
                     body can never be sent (past the 64 KiB the client may send before it
                     sees our SETTINGS, which the connection window also caps).
continuation-flood   after the first request: a HEADERS frame without END_HEADERS, then
                     CONTINUATION frames (each a 1000-byte header field) until the client
                     closes (at most 64 MiB).
ping-flood           after the first request: PING frames, without reading the client's ACKs,
                     until the client closes (at most 64 MiB).
settings-flood       the same with SETTINGS frames, each demanding an ACK.
bad-hpack            after the first request: a HEADERS frame whose HPACK block refers to a
                     table entry that does not exist.
data-beyond-window   after the first request: response headers, then DATA frames totalling the
                     flow-control window the client had granted when the request arrived plus
                     1 MiB (the last one with END_STREAM), ignoring its WINDOW_UPDATEs. A client
                     that grants window as data arrives (rather than as its user consumes it)
                     may never see a violation and receives a complete response.
silent-ping          connection 1 answers its first request, then reads and answers nothing
                     more (no PING ACK, no response) while staying open. Later connections: ok.
"""
import argparse
import asyncio
import gzip
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import urllib.parse

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    from h2.errors import ErrorCodes
    from h2.settings import SettingCodes
    from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame,
                                  PingFrame, SettingsFrame)
except ImportError as e:
    sys.stderr.write(f"h2peer: {e}: install Debian's python3-h2\n")
    sys.exit(3)

SCENARIOS = ("ok", "count", "goaway", "refuse", "reset", "maxstreams1", "nowindow",
             "continuation-flood", "ping-flood", "settings-flood", "bad-hpack",
             "data-beyond-window", "silent-ping")
FLOODS = ("continuation-flood", "ping-flood", "settings-flood")
FLOOD_CAP = 64 * 1024 * 1024
ECHO_LIMIT = 1024 * 1024
PATTERN = bytes(i % 251 for i in range(251 * 256))  # 64,256 bytes; a whole number of cycles

SCENARIO = "ok"
STATS = {"connections": 0, "requests": 0, "resets": [], "goaways": []}
SEEN_PATHS = set()
TASKS = set()  # the connections' tasks: asyncio keeps only weak references to them


def log(message):
    sys.stderr.write(f"h2peer: {message}\n")
    sys.stderr.flush()


class Closed(Exception):
    """The connection or the stream went away while we were sending."""


class Stream:
    def __init__(self, stream_id, headers):
        self.id = stream_id
        self.headers = headers  # [(name, value)] as str (latin-1)
        self.fields = {}
        for name, value in headers:
            self.fields.setdefault(name, []).append(value)
        self.method = self.field(":method")
        self.path = self.field(":path") or "/"
        self.received = 0
        self.sha256 = hashlib.sha256()
        self.body = bytearray()
        self.task = None

    def field(self, name):
        values = self.fields.get(name)
        if not values:
            return None
        return ("; " if name == "cookie" else ", ").join(values)


class Connection:
    def __init__(self, number, reader, writer):
        self.number = number
        self.reader = reader
        self.writer = writer
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=True))
        self.streams = {}
        self.open = set()
        self.max_concurrent = 0
        self.settings_acked = 0
        self.window = asyncio.Event()
        self.closed = False
        self.closing = False
        self.requests = 0
        self.goaway_last = None  # goaway: last-stream-id we announced
        self.first_stream = None
        self.silent = False
        self.raw = False  # the script wrote raw frames: h2's state no longer matches

    # --- sending --------------------------------------------------------------------------
    def flush(self):
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.writer.write(data)

    async def drain(self):
        self.flush()
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as e:
            self.closed = True
            raise Closed() from e

    async def send_headers(self, stream, status, headers=(), end=False):
        fields = [(":status", str(status)), ("x-connection", str(self.number)),
                  ("x-stream-id", str(stream.id)),
                  ("x-max-concurrent", str(self.max_concurrent))] + list(headers)
        self.h2.send_headers(stream.id, fields, end_stream=end)
        if end:
            self.finished(stream)
        await self.drain()

    async def send_body(self, stream, chunks, end=True):
        """Sends the byte strings of the iterable chunks as DATA, as flow control allows."""
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                size = min(await self.wait_window(stream), len(view),
                           self.h2.max_outbound_frame_size)
                self.h2.send_data(stream.id, view[:size].tobytes())
                view = view[size:]
                await self.drain()
        if end:
            self.h2.end_stream(stream.id)
            self.finished(stream)
            await self.drain()

    async def wait_window(self, stream):
        while True:
            if self.closed:
                raise Closed()
            try:
                window = self.h2.local_flow_control_window(stream.id)
            except h2.exceptions.StreamClosedError as e:
                raise Closed() from e
            if window > 0:
                return window
            self.window.clear()
            await self.window.wait()

    def finished(self, stream):
        self.open.discard(stream.id)
        if self.goaway_last is not None and not any(s <= self.goaway_last for s in self.open):
            asyncio.get_running_loop().call_soon(self.close)

    def close(self):
        """Ends the connection from our side while run() keeps reading: FIN now (cleartext),
        and the socket closes once the client has closed too, or 5 s later. Closing a socket
        that holds unread data would send RST, which can destroy a response the client has
        not read yet."""
        if self.closing or self.closed:
            return
        self.closing = True
        self.flush()
        if self.writer.can_write_eof():
            self.writer.write_eof()
        asyncio.get_running_loop().call_later(5, self.writer.transport.abort)

    async def linger(self):
        """The same as close(), once run() has stopped reading."""
        self.flush()
        self.closed = True
        self.window.set()

        async def read_to_end():
            while await self.reader.read(65536):
                pass

        try:
            await self.writer.drain()
            if self.writer.can_write_eof():
                self.writer.write_eof()
            await asyncio.wait_for(read_to_end(), 5)
        except (ConnectionError, OSError, asyncio.TimeoutError, ssl.SSLError):
            pass
        self.writer.close()
        log(f"conn {self.number}: closed")

    def write_raw(self, data):
        self.flush()
        self.raw = True
        self.writer.write(data)

    # --- receiving ------------------------------------------------------------------------
    async def run(self):
        log(f"conn {self.number}: open")
        scenario_settings = {}
        if SCENARIO == "maxstreams1":
            scenario_settings[SettingCodes.MAX_CONCURRENT_STREAMS] = 1
        elif SCENARIO == "nowindow":
            scenario_settings[SettingCodes.INITIAL_WINDOW_SIZE] = 0
        # One SETTINGS frame with h2's defaults and the scenario's values, as a real server
        # sends. h2 is told about the scenario's values as an update, which it enforces only
        # once the client has acknowledged the frame, as RFC 9113 requires (the client may
        # open streams and send data before it has seen our SETTINGS).
        settings = SettingsFrame(0)
        settings.settings = dict(self.h2.local_settings.items())
        settings.settings.update(scenario_settings)
        self.h2.initiate_connection()
        if scenario_settings:
            self.h2.update_settings(scenario_settings)
        self.h2.data_to_send()  # replaced by ours
        self.writer.write(settings.serialize())
        try:
            while not self.closed and not self.silent:
                data = await self.reader.read(65536)
                if not data:
                    log(f"conn {self.number}: the client closed")
                    break
                if self.silent:
                    break  # what arrived is dropped: no PING ACK, no answer
                if self.raw or self.closing:
                    continue  # only wait for the client to close
                try:
                    events = self.h2.receive_data(data)
                except h2.exceptions.ProtocolError as e:
                    log(f"conn {self.number}: protocol error from the client: {e!r}")
                    self.flush()
                    break
                for event in events:
                    self.handle(event)
                    if self.raw or self.silent:
                        break
                self.flush()
        except (ConnectionError, OSError, ssl.SSLError) as e:
            log(f"conn {self.number}: {e!r}")
        if self.silent:
            log(f"conn {self.number}: silent from now on")
            self.writer.transport.pause_reading()
            await asyncio.Event().wait()  # until the process ends
        for stream in list(self.streams.values()):
            if stream.task:
                stream.task.cancel()
        await self.linger()

    def handle(self, event):
        if isinstance(event, h2.events.RequestReceived):
            headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers]
            stream = Stream(event.stream_id, headers)
            self.streams[stream.id] = stream
            self.open.add(stream.id)
            if self.settings_acked:
                self.max_concurrent = max(self.max_concurrent, len(self.open))
            log(f"conn {self.number}: stream {stream.id} {stream.method} {stream.path} "
                f"(open: {len(self.open)})")
            if event.stream_ended:
                self.request_complete(stream)
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams.get(event.stream_id)
            if stream:
                stream.received += len(event.data)
                stream.sha256.update(event.data)
                if len(stream.body) < ECHO_LIMIT:
                    stream.body += event.data
            if SCENARIO != "nowindow" and event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if event.stream_ended and stream:
                self.request_complete(stream)
        elif isinstance(event, h2.events.StreamEnded):
            stream = self.streams.get(event.stream_id)
            if stream and stream.task is None:
                self.request_complete(stream)
        elif isinstance(event, h2.events.TrailersReceived):
            log(f"conn {self.number}: stream {event.stream_id} request trailers")
            if event.stream_ended and event.stream_id in self.streams:
                self.request_complete(self.streams[event.stream_id])
        elif isinstance(event, h2.events.StreamReset):
            code = int(event.error_code)
            log(f"conn {self.number}: stream {event.stream_id} reset by the client, code {code}")
            STATS["resets"].append({"connection": self.number, "stream": event.stream_id,
                                    "code": code})
            self.open.discard(event.stream_id)
            stream = self.streams.get(event.stream_id)
            if stream and stream.task:
                stream.task.cancel()
            self.window.set()
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self.window.set()
        elif isinstance(event, h2.events.SettingsAcknowledged):
            self.settings_acked += 1
        elif isinstance(event, h2.events.PingReceived):
            log(f"conn {self.number}: PING")
        elif isinstance(event, h2.events.ConnectionTerminated):
            code = int(event.error_code)
            log(f"conn {self.number}: GOAWAY from the client, code {code}, "
                f"last stream {event.last_stream_id}")
            STATS["goaways"].append({"connection": self.number, "code": code})

    def request_complete(self, stream):
        if stream.task is not None:
            return
        STATS["requests"] += 1
        self.requests += 1
        if stream.path != "/stats":
            if self.first_stream is None:
                self.first_stream = stream.id
            elif SCENARIO == "goaway" and self.number == 1:
                if self.goaway_last is None:
                    self.goaway_last = self.first_stream
                    frame = GoAwayFrame(0)
                    frame.last_stream_id = self.first_stream
                    frame.error_code = ErrorCodes.NO_ERROR
                    self.flush()
                    self.writer.write(frame.serialize())
                    log(f"conn {self.number}: GOAWAY sent, last stream {self.first_stream}")
                    if self.first_stream not in self.open:
                        self.close()
                self.open.discard(stream.id)
                stream.task = False  # never answered
                return
        stream.task = asyncio.ensure_future(self.respond(stream))

    # --- answering ------------------------------------------------------------------------
    async def respond(self, stream):
        try:
            await self.answer(stream)
        except (Closed, asyncio.CancelledError):
            pass
        except h2.exceptions.StreamClosedError:
            log(f"conn {self.number}: stream {stream.id} closed before its answer was sent")
        except (h2.exceptions.ProtocolError, ConnectionError, OSError) as e:
            log(f"conn {self.number}: stream {stream.id}: {e!r}")
        finally:
            self.open.discard(stream.id)

    async def answer(self, stream):
        url = urllib.parse.urlsplit(stream.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
        if path == "/stats":
            stats = dict(STATS, scenario=SCENARIO)
            return await self.send_text(stream, 200, json.dumps(stats), "application/json")
        if SCENARIO == "refuse" and (path.startswith("/refuse-always/")
                                     or stream.path not in SEEN_PATHS):
            SEEN_PATHS.add(stream.path)
            log(f"conn {self.number}: stream {stream.id} refused")
            self.h2.reset_stream(stream.id, ErrorCodes.REFUSED_STREAM)
            return await self.drain()
        if SCENARIO in FLOODS + ("bad-hpack", "data-beyond-window"):
            return await self.violate(stream)
        if SCENARIO == "reset" and path in ("/reset", "/reset-early", "/reset-body"):
            if path != "/reset-early":
                await self.send_headers(stream, 200, [("content-type", "text/plain")])
            if path == "/reset-body":
                await self.send_body(stream, [b"x" * 1000], end=False)
            log(f"conn {self.number}: stream {stream.id} reset with INTERNAL_ERROR")
            self.h2.reset_stream(stream.id, ErrorCodes.INTERNAL_ERROR)
            return await self.drain()
        if SCENARIO == "silent-ping" and self.number == 1 and self.requests > 1:
            return  # never answered: the connection is silent already
        parts = path.split("/")
        if path.startswith("/slow/") and len(parts) == 3 and parts[2].isdigit():
            await asyncio.sleep(int(parts[2]) / 1000)
        await self.route(stream, path, parts, query)
        if SCENARIO == "silent-ping" and self.number == 1:
            self.silent = True
            log(f"conn {self.number}: answered its first request; silent from now on")

    async def route(self, stream, path, parts, query):
        if stream.received or stream.method in ("POST", "PUT", "PATCH"):
            digest = stream.sha256.hexdigest()
            body = bytes(stream.body) if stream.received < ECHO_LIMIT else b""
            headers = [("x-received-bytes", str(stream.received)),
                       ("x-received-sha256", digest)]
            return await self.send_bytes(stream, 200, body, stream.field("content-type")
                                         or "application/octet-stream", headers)
        if path.startswith("/large/") and len(parts) == 3 and parts[2].isdigit():
            size = int(parts[2])
            await self.send_headers(stream, 200, [("content-type", "application/octet-stream"),
                                                  ("content-length", str(size))],
                                    end=stream.method == "HEAD" or size == 0)
            if stream.method != "HEAD" and size:
                await self.send_body(stream, pattern(size))
            return
        if path == "/trailers":
            body = b"hello /trailers"
            await self.send_headers(stream, 200, [("content-type", "text/plain"),
                                                  ("content-length", str(len(body))),
                                                  ("trailer", "x-checksum")])
            await self.send_body(stream, [body], end=False)
            self.h2.send_headers(stream.id, [("x-checksum", hashlib.sha256(body).hexdigest())],
                                 end_stream=True)
            self.finished(stream)
            return await self.drain()
        if path.startswith("/once/") and len(parts) == 3 and parts[2].isdigit() \
                and stream.path not in SEEN_PATHS:
            SEEN_PATHS.add(stream.path)
            return await self.send_headers(stream, int(parts[2]),
                                           [("content-length", "0"), ("retry-after", "0")],
                                           end=True)
        if path.startswith("/status/") and len(parts) == 3 and parts[2].isdigit():
            status = int(parts[2])
            no_body = status < 200 or status in (204, 304)
            return await self.send_headers(stream, status,
                                           [] if no_body else [("content-length", "0")],
                                           end=True)
        if path in ("/redirect-h1", "/redirect"):
            status = int(query.get("status", "302"))
            return await self.send_headers(stream, status, [("location", query.get("to", "/")),
                                                            ("content-length", "0")], end=True)
        if path == "/headers":
            fields = {}
            for name, _ in stream.headers:
                fields[name] = stream.field(name)
            return await self.send_text(stream, 200, json.dumps(fields), "application/json")
        if path == "/set-cookie":
            name, value = next(iter(query.items()), ("h2peer", "1"))
            return await self.send_text(stream, 200, "cookie set", "text/plain",
                                        [("set-cookie", f"{name}={value}; Path=/")])
        if path == "/cookie":
            return await self.send_text(stream, 200, stream.field("cookie") or "", "text/plain")
        if path == "/gzip":
            body = gzip.compress(b"hello /gzip" * 100)
            return await self.send_bytes(stream, 200, body, "text/plain",
                                         [("content-encoding", "gzip")])
        if path.startswith("/drip/") and len(parts) == 4 and parts[2].isdigit() \
                and parts[3].isdigit():
            await self.send_headers(stream, 200, [("content-type", "text/plain")])
            for i in range(int(parts[2])):
                await asyncio.sleep(int(parts[3]) / 1000)
                await self.send_body(stream, [f"chunk {i}\n".encode()], end=False)
            self.h2.end_stream(stream.id)
            self.finished(stream)
            return await self.drain()
        if path == "/hang":
            return await asyncio.Event().wait()
        if path == "/hang-body":
            await self.send_headers(stream, 200, [("content-type", "text/plain")])
            return await asyncio.Event().wait()
        return await self.send_text(stream, 200, f"hello {stream.path}", "text/plain")

    async def send_text(self, stream, status, text, content_type, headers=()):
        await self.send_bytes(stream, status, text.encode(), content_type, headers)

    async def send_bytes(self, stream, status, body, content_type, headers=()):
        fields = [("content-type", content_type), ("content-length", str(len(body)))]
        head_only = stream.method == "HEAD" or not body
        await self.send_headers(stream, status, fields + list(headers), end=head_only)
        if not head_only:
            await self.send_body(stream, [body])

    # --- protocol violations --------------------------------------------------------------
    async def violate(self, stream):
        if SCENARIO == "bad-hpack":
            frame = HeadersFrame(stream.id)
            frame.flags.add("END_HEADERS")
            frame.data = b"\x88\xbf"  # :status 200, then index 63: no such entry
            self.write_raw(frame.serialize())
            log(f"conn {self.number}: sent a HEADERS frame with a bad HPACK index")
            return await self.drain()
        if SCENARIO == "data-beyond-window":
            await self.send_headers(stream, 200, [("content-type", "application/octet-stream")])
            window = self.h2.local_flow_control_window(stream.id)
            total = window + 1024 * 1024
            size = self.h2.max_outbound_frame_size
            log(f"conn {self.number}: window {window}; sending {total} bytes of DATA")
            self.raw = True
            sent = 0
            frame = DataFrame(stream.id)
            frame.data = PATTERN[:size]
            full = frame.serialize()
            while total - sent > size:
                self.writer.write(full)
                sent += size
                await self.drain()
            # The last frame ends the stream, so that a client that missed the violation
            # ends with a complete response instead of waiting.
            frame.data = PATTERN[:total - sent]
            frame.flags.add("END_STREAM")
            self.writer.write(frame.serialize())
            return await self.drain()
        if SCENARIO == "continuation-flood":
            first = HeadersFrame(stream.id)
            first.data = b"\x88"  # :status 200; END_HEADERS never comes
            frame = ContinuationFrame(stream.id)
            # A literal header field without indexing, new name "x-flood", 1000-byte value.
            frame.data = b"\x00\x07x-flood\x7f\xe9\x06" + b"f" * 1000
            unit = frame.serialize() * 64
            self.write_raw(first.serialize())
        elif SCENARIO == "ping-flood":
            frame = PingFrame(0)
            frame.opaque_data = struct.pack(">Q", 0x68327065657221)
            unit = frame.serialize() * 4096
            self.write_raw(b"")
        else:  # settings-flood
            frame = SettingsFrame(0)
            frame.settings = {SettingCodes.HEADER_TABLE_SIZE: 4096}
            unit = frame.serialize() * 4096
            self.write_raw(b"")
        log(f"conn {self.number}: {SCENARIO} starts")
        self.writer.transport.pause_reading()  # never read the client's ACKs
        sent = 0
        try:
            while sent < FLOOD_CAP:
                self.writer.write(unit)
                sent += len(unit)
                await self.writer.drain()
        except (ConnectionError, OSError, ssl.SSLError):
            log(f"conn {self.number}: the client closed during the flood after {sent} bytes")
            self.closed = True
            return
        log(f"conn {self.number}: flood cap reached ({sent} bytes); the client did not close")


def pattern(size):
    """size bytes of the /large/N body (byte i = i % 251), in PATTERN-sized chunks."""
    while size > 0:
        chunk = PATTERN[:size] if size < len(PATTERN) else PATTERN
        yield chunk
        size -= len(chunk)


async def serve(tls):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if SCENARIO in FLOODS:
        # A small receive buffer (inherited by accepted sockets): the client's ACKs back up in
        # its own queue instead of in our kernel buffer.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
        context.set_alpn_protocols(["h2"])

    async def accepted(reader, writer):
        TASKS.add(asyncio.current_task())
        STATS["connections"] += 1
        number = STATS["connections"]
        if tls:
            alpn = writer.get_extra_info("ssl_object").selected_alpn_protocol()
            if alpn != "h2":
                log(f"conn {number}: ALPN chose {alpn!r}, not h2: closing")
                writer.close()
                return
        try:
            await Connection(number, reader, writer).run()
        except Exception as e:  # a bug here must show, not hang the test
            log(f"conn {number}: internal error {e!r}")
            writer.close()

    server = await asyncio.start_server(accepted, sock=sock, ssl=context)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    log(f"scenario {SCENARIO}, {'TLS' if tls else 'cleartext'}, port {sock.getsockname()[1]}")
    async with server:
        await server.serve_forever()


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    global SCENARIO
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="ok", choices=SCENARIOS)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    SCENARIO = args.scenario
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    asyncio.run(serve(args.tls))


if __name__ == "__main__":
    main()
