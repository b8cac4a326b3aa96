#!/usr/bin/python3
"""An independent WebSocket peer for Reqivo's tests: Python websockets (Debian 12: 10.4).

Listens on 127.0.0.1 on a free port and prints that port on the first line of stdout. The
path of each connection picks its behaviour:

  /echo                  every message back, same type; the message "drop" cuts the TCP
                         connection (no close frame), on every path that echoes
  /fragments?size=N      every message back as a fragmented message of N-byte pieces
  /close?code=C&reason=R closes with C and R after the first message
  /silent                the message "silence" makes the peer stop reading: pings go
                         unanswered, as with a hung peer
  /auth                  401 unless "Authorization: Bearer secret"; then like /echo
  /status?code=C         answers the upgrade with HTTP C
  /headers               sends the handshake's headers as one JSON text message
  /subprotocol           negotiates one of chat.v2, chat.v1
  /badsubprotocol        answers with a subprotocol the client did not offer
  /record/<key>?dropat=K records every message under <key>, across connections; the Kth one
                         cuts the connection once; the message "dump" is answered with the
                         JSON list of what was recorded before it
  /send?bytes=N          sends one binary message of N bytes (a single frame) on connect

It runs until killed.
"""
import asyncio
import json
import sys
import urllib.parse
from http import HTTPStatus

import websockets
import websockets.server

RECORDS = {}
DROPPED = set()


def route(ws):
    parsed = urllib.parse.urlsplit(ws.path)
    return parsed.path, dict(urllib.parse.parse_qsl(parsed.query))


async def echo(ws):
    async for message in ws:
        if message == "drop":
            ws.transport.abort()
            return
        await ws.send(message)


def pieces(message, size):
    for i in range(0, len(message), size):
        yield message[i:i + size]
    if not message:
        yield message


async def handler(ws, _path=None):
    path, query = route(ws)
    if path in ("/echo", "/auth", "/subprotocol", "/badsubprotocol"):
        await echo(ws)
    elif path == "/fragments":
        size = int(query.get("size", "1024"))
        async for message in ws:
            await ws.send(pieces(message, size))
    elif path == "/close":
        await ws.recv()
        await ws.close(int(query.get("code", "1000")), query.get("reason", ""))
    elif path == "/silent":
        async for message in ws:
            if message == "silence":
                ws.transport.pause_reading()
                await asyncio.sleep(3600)
            await ws.send(message)
    elif path == "/headers":
        await ws.send(json.dumps({k.lower(): v for k, v in ws.request_headers.raw_items()}))
        await echo(ws)
    elif path.startswith("/record/"):
        key = path[len("/record/"):]
        log = RECORDS.setdefault(key, [])
        drop_at = int(query.get("dropat", "0"))
        async for message in ws:
            if message == "dump":
                await ws.send(json.dumps(log))
                continue
            log.append(message)
            if drop_at and len(log) == drop_at and key not in DROPPED:
                DROPPED.add(key)
                ws.transport.abort()
                return
    elif path == "/send":
        await ws.send(b"x" * int(query.get("bytes", "0")))
        await echo(ws)
    else:
        await ws.close(4404, "no such path")


async def process_request(path, headers):
    parsed = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(parsed.query))
    if parsed.path == "/auth" and headers.get("Authorization") != "Bearer secret":
        return HTTPStatus.UNAUTHORIZED, [("WWW-Authenticate", "Bearer")], b"no\n"
    if parsed.path == "/status":
        return HTTPStatus(int(query.get("code", "500"))), [], b"status\n"
    return None


class PeerProtocol(websockets.server.WebSocketServerProtocol):
    def select_subprotocol(self, client_subprotocols, server_subprotocols):
        if self.path.startswith("/badsubprotocol"):
            return "not-offered"
        if self.path.startswith("/subprotocol"):
            for protocol in client_subprotocols:
                if protocol in ("chat.v2", "chat.v1"):
                    return protocol
        return None


async def main():
    server = await websockets.serve(
        handler, "127.0.0.1", 0,
        create_protocol=PeerProtocol,
        process_request=process_request,
        subprotocols=["chat.v2", "chat.v1", "not-offered"],
        max_size=None, max_queue=None, ping_interval=None, compression=None)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
