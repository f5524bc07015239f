"""Alert delivery figure: a tick at the TradingView simulator → TradingViewClient → QuoteService → the alerts
evaluator (rule state written to the embedded MongoDB, the trigger recorded) → the webhook dispatcher (signed
POST) → a webhook receiver, all on one event loop over 127.0.0.1. The service is built by the composition
root with the embedded store (mongoeco) in a temporary data directory; one repeating `price_crosses` rule
(either direction, no cooldown) and ticks alternating around its level, so every tick fires it once.

`alert_tick_to_webhook_p99_ms` (target <= 50 ms): from `push_tick` to the receiver's receipt of that tick's
`alert.triggered` delivery (matched by the unique price that fired it), over `TICKS` ticks 40 ms apart.
`alert_ticks_undelivered`: ticks whose delivery never arrived within 15 s (should be 0).
"""

import asyncio
import statistics
import tempfile
import time

import orjson
from aiohttp import web

from simulators.tradingview import TradingViewSimulator
from src.app.root import bootstrap
from src.common.settings import Settings
from src.domain.identity import OPEN_OWNER
from src.domain.market_data import Symbol
from src.features.alerts import messages as m
from tests.fixtures.servers import free_port

BTC = Symbol("BINANCE", "BTCUSDT")
TICKS = 300
WARMUP = 20
SPACING_S = 0.04
LEVEL = 100.0


class Receiver:
    def __init__(self) -> None:
        self.sent: dict[float, float] = {}  # price → when its tick was pushed
        self.latencies: list[float] = []

    async def handle(self, request: web.Request) -> web.Response:
        delivery = orjson.loads(await request.read())
        price = delivery["data"]["values"]["price"]
        started = self.sent.pop(price, None)
        if started is not None:
            self.latencies.append((time.perf_counter() - started) * 1_000)
        return web.Response(status=204)


async def _serve(receiver: Receiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/hook"


async def _drive(sim: TradingViewSimulator, receiver: Receiver, start: float) -> None:
    for i in range(TICKS):
        offset = (i + 1) * 1e-4  # a unique price per tick, alternating around the level
        price = LEVEL + offset if i % 2 == 0 else LEVEL - offset
        receiver.sent[price] = time.perf_counter()
        await sim.push_tick(BTC.ticker, price, 1_000.0 + i, when=start + i * SPACING_S)
        await asyncio.sleep(SPACING_S)
    deadline = time.perf_counter() + 15.0  # a delivery retried after a failure is late, not lost
    while receiver.sent and time.perf_counter() < deadline:  # noqa: ASYNC110 - the receiver owns `sent`
        await asyncio.sleep(0.01)


async def run() -> dict[str, float]:
    sim = TradingViewSimulator(heartbeat_interval=10.0)
    await sim.start("127.0.0.1", 0)
    receiver = Receiver()
    runner, url = await _serve(receiver)
    with tempfile.TemporaryDirectory(prefix="pq-bench-alerts-") as data_dir:
        settings = Settings(_env_file=None, data_dir=data_dir, scheduler_enabled=False,  # type: ignore[call-arg]
                            rate_limit_enabled=False, live_bar_intervals=["1m"], tradingview_ws_url=sim.ws_url,
                            tradingview_search_url=sim.search_url, tradingview_signin_url=sim.signin_url,
                            webhook_urls=[url], webhook_secret="bench-secret", alerts_refresh_s=0.2)
        root = bootstrap(settings)
        await root.lifecycle.start()
        try:
            evaluator = root.slices["alerts"].exposed["evaluator"]
            created = await root.mediator.send(m.CreateAlertCommand(m.AlertActor(OPEN_OWNER, True), m.AlertSettings(
                "tradingview", BTC, {"kind": "price_crosses", "level": LEVEL}, channels=("webhook",))))
            await evaluator.refresh()  # holds the symbol upstream
            start = time.time() + 5  # ahead of the snapshot's last trade
            await sim.push_tick(BTC.ticker, LEVEL - 1, 1.0, when=start - 1)  # the rule learns its side
            await asyncio.sleep(0.5)
            await _drive(sim, receiver, start)
            fired = (await root.mediator.send(m.GetAlertQuery(m.AlertActor(OPEN_OWNER, True), created.rule.id)))
        finally:
            await root.lifecycle.stop()
            await runner.cleanup()
            await sim.stop()
    measured = sorted(receiver.latencies[WARMUP:])
    if fired.rule.memory.trigger_count < TICKS:
        raise RuntimeError(f"the rule fired {fired.rule.memory.trigger_count} times for {TICKS} crossings")
    return {
        "alert_tick_to_webhook_p99_ms": round(measured[int(0.99 * (len(measured) - 1))], 3),
        "alert_tick_to_webhook_p50_ms": round(statistics.median(measured), 3),
        "alert_tick_to_webhook_max_ms": round(measured[-1], 3),
        "alert_ticks_undelivered": float(len(receiver.sent)),
    }


if __name__ == "__main__":
    print(asyncio.run(run()))
