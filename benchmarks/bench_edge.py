"""`edge_stack_ratio`: rps of a trivial route behind the full edge middleware (correlation id, metrics, the
access log at INFO — one line per request —, host/origin/body guard, rate limit, idempotency) divided by the
same route of the same app without that middleware, same run.

Each app runs in its own uvicorn process (`benchmarks/_serve_app.py`: no access log, log level warning)
on a free port and is loaded with `wrk` at 32 connections (an aiohttp load generator in a subprocess when
wrk is missing); see `benchmarks/_load.py`. Runs alternate A/B B/A A/B ... and the ratio is the median of
each round's ratio: the two runs of a round are seconds apart, so drift from other work on the machine
cancels. The rps figures are medians. With two or more CPUs the servers are pinned to one CPU and the load
generator to the others.
"""

import statistics

from benchmarks._load import TRIVIAL_PATH, load, serving

DURATION_S = 2  # whole seconds: wrk takes no fractions
ROUNDS = 6

# The limiter runs on every request, but with a bucket large enough that nothing is rejected; the access
# log writes a line for every request (to the server's stdout, /dev/null here).
SETTINGS = {"rate_limit_capacity": 10**9, "rate_limit_refill_per_s": 10**9, "log_level": "INFO", "access_log": True}


def run() -> dict[str, float]:
    with serving(SETTINGS, SETTINGS, bare=(False, True)) as (full, bare):
        urls = {"full": full.base_url + TRIVIAL_PATH, "bare": bare.base_url + TRIVIAL_PATH}
        for url in urls.values():
            load(url, 1)  # warm up
        rps: dict[str, list[float]] = {"full": [], "bare": []}
        ratios: list[float] = []
        for round_ in range(ROUNDS):
            for kind in ("full", "bare") if round_ % 2 == 0 else ("bare", "full"):
                rps[kind].append(load(urls[kind], DURATION_S).rps)
            ratios.append(rps["full"][-1] / rps["bare"][-1])
    return {
        "edge_stack_ratio": round(statistics.median(ratios), 3),
        "edge_trivial_rps_with_stack": round(statistics.median(rps["full"]), 1),
        "edge_trivial_rps_bare": round(statistics.median(rps["bare"]), 1),
    }


if __name__ == "__main__":
    print(run())
