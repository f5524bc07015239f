"""Eight abusive WebSocket clients for `bench_ws_abuse`, in a process of their own (so their own work never
slows the process that measures): two subscribe floods, two clients that never read, two JSON ping floods
and two WebSocket ping floods. Each connects again as soon as it is closed, until `--seconds` have passed;
prints one JSON line of what happened to them. `PQ_ABUSERS=ping-flood,never-read` picks other kinds (each
runs twice), to see what one kind costs.

    python -m benchmarks._ws_abusers --url ws://127.0.0.1:8123/api/v1/ws/quotes --seconds 6
"""

import argparse
import asyncio
import json
import os
import socket
import time
from collections import Counter
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

closes: Counter[str] = Counter()
KINDS = os.environ.get("PQ_ABUSERS", "subscribe-flood,never-read,ping-flood,frame-ping-flood").split(",")


async def _subscribe_flood(ws: ClientConnection, n: int) -> None:
    for k in range(10**9):
        symbols = [f"BINANCE:A{n}X{k}Y{j}" for j in range(10)]
        await ws.send(orjson.dumps({"action": "subscribe", "symbols": symbols}).decode())
        await asyncio.sleep(0)


async def _ping_flood(ws: ClientConnection, n: int) -> None:
    while True:
        await ws.send('{"action": "ping"}')
        await asyncio.sleep(0)


async def _frame_ping_flood(ws: ClientConnection, n: int) -> None:
    while True:
        await ws.ping()
        await asyncio.sleep(0)


async def _never_read(ws: ClientConnection, n: int) -> None:
    await ws.send(orjson.dumps({"action": "subscribe", "symbols": ["BINANCE:BTCUSDT"]}).decode())
    await asyncio.sleep(3600)


async def _drain(ws: ClientConnection) -> None:
    async for _ in ws:
        pass


async def _abuser(url: str, kind: str, n: int, until: float) -> None:
    behaviours = {"subscribe-flood": _subscribe_flood, "ping-flood": _ping_flood,
                  "frame-ping-flood": _frame_ping_flood, "never-read": _never_read}
    host, port = urlsplit(url).hostname, urlsplit(url).port
    while time.monotonic() < until:
        sock = socket.create_connection((host, port))
        if kind == "never-read":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        try:
            async with connect(url, sock=sock, max_queue=1 if kind == "never-read" else 16) as ws:
                work = [asyncio.create_task(behaviours[kind](ws, n))]
                if kind != "never-read":
                    work.append(asyncio.create_task(_drain(ws)))
                try:
                    async with asyncio.timeout(max(0.0, until - time.monotonic())):
                        await asyncio.wait(work, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in work:
                        task.cancel()
        except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
            pass
        closes[kind] += 1
        await asyncio.sleep(0.05)


async def main(url: str, seconds: float) -> None:
    until = time.monotonic() + seconds
    kinds = KINDS * 2
    await asyncio.gather(*(_abuser(url, kind, n, until) for n, kind in enumerate(kinds)))
    print(json.dumps({"connections": dict(closes)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.seconds))
