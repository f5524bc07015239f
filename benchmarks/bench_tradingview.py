"""TradingView adapter figures: `timescale_update` decoding into domain bars, and a 5,000-bar fetch
from the simulator over loopback.

`tv_parse_bars_per_s` decodes frames of session-stamped bars as TradingView sends a stock's history: NASDAQ
1m bars from 09:30 to 16:00 New York (13:30-20:00 UTC in summer), weekends skipped, times kept as sent."""

import statistics
import time

import orjson

from simulators.tradingview import TradingViewSimulator
from src.domain.market_data import Interval, OHLCVBar, Symbol
from src.providers.tradingview.client import TradingViewClient, TradingViewConfig
from src.providers.tradingview.framing import decode_frames, encode_frame
from src.providers.tradingview.messages import as_message, decode_payload
from src.providers.tradingview.parsing import parse_bars, series_rows

BARS_PER_FRAME = 5_000


def session_times(count: int, first_day: int = 19_905) -> list[int]:
    """`count` 1m bar opens of NASDAQ sessions in summer (13:30-20:00 UTC), weekdays from `first_day`
    (epoch days; 19_905 is Monday 2024-07-01)."""
    times: list[int] = []
    day = first_day
    while len(times) < count:
        if (day + 3) % 7 < 5:  # Monday..Friday (1970-01-01 was a Thursday)
            opened = day * 86_400 + 13 * 3_600 + 1_800
            times.extend(range(opened, opened + 390 * 60, 60))
        day += 1
    return times[:count]


def _timescale_message(start_day: int) -> str:
    times = session_times(BARS_PER_FRAME, start_day)
    rows = [{"i": i, "v": [float(t), 100.0 + i % 7, 108.5, 95.25, 101.0 + i % 5, 12.345]}
            for i, t in enumerate(times)]
    start = times[0]
    payload = {"m": "timescale_update", "p": ["cs_bench", {"sds_1": {"s": rows, "t": "s1"}}, {"index": 0}],
               "t": start, "t_ms": start * 1000}
    return encode_frame(orjson.dumps(payload).decode())


def _decode(message: str) -> list[OHLCVBar]:
    bars: list[OHLCVBar] = []
    for payload in decode_frames(message):
        msg = as_message(decode_payload(payload))
        assert msg is not None
        bars.extend(parse_bars(series_rows(msg.params, "sds_1"), Interval.M1)[0])
    return bars


def bench_parse(rounds: int = 7, pages: int = 8) -> dict[str, float]:
    message = _timescale_message(19_905)
    rows = orjson.loads(decode_frames(message)[0])["p"][1]["sds_1"]["s"]
    _decode(message)
    rates = []  # the median of several rounds: these machines are noisy
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(pages):
            bars = _decode(message)
        rates.append(pages * BARS_PER_FRAME / (time.perf_counter() - started))
    assert len(bars) == BARS_PER_FRAME
    # The same rows through the validating constructor, for comparison.
    started = time.perf_counter()
    for _ in range(5):
        [OHLCVBar(Interval.M1, int(r["v"][0]), *r["v"][1:6]) for r in rows]
    validated = time.perf_counter() - started
    return {"tv_parse_bars_per_s": round(statistics.median(rates)),
            "tv_bar_constructor_per_s": round(5 * BARS_PER_FRAME / validated)}


async def bench_history(rounds: int = 7) -> dict[str, float]:
    sim = TradingViewSimulator(heartbeat_interval=10.0)
    await sim.start("127.0.0.1", 0)
    config = TradingViewConfig(ws_url=sim.ws_url, search_url=sim.search_url, signin_url=sim.signin_url,
                               rate_limit=None, request_timeout=10.0)
    times: list[float] = []
    try:
        async with TradingViewClient(config) as tv:
            await tv.start()
            await tv.fetch_bars(Symbol("BINANCE", "BTCUSDT"), Interval.M1, 10)  # warm: history generated
            for _ in range(rounds):
                started = time.perf_counter()
                bars = await tv.fetch_bars(Symbol("BINANCE", "BTCUSDT"), Interval.M1, 5_000)
                times.append(time.perf_counter() - started)
                assert len(bars) == 5_000
    finally:
        await sim.stop()
    return {"tv_history_5000_s": round(statistics.median(times), 4)}


async def run() -> dict[str, float]:
    return {**bench_parse(), **await bench_history()}
