"""`edge_stack_ratio`: rps of a trivial route behind the full edge middleware (correlation id, metrics, the
access log at INFO — one line per request —, host/origin/body guard, rate limit, idempotency) divided by the
same route of the same app without that middleware, same run.

Each app runs in its own uvicorn process (`benchmarks/_serve_app.py`: no access log, log level warning)
on a free port and is loaded with `wrk` at 32 connections (an aiohttp load generator in a subprocess when
wrk is missing); see `benchmarks/_load.py`. Runs alternate A/B B/A A/B ... and the ratio is the median of
each round's ratio: the two runs of a round are seconds apart, so drift from other work on the machine
cancels. The rps figures are medians. With two or more CPUs the servers are pinned to one CPU and the load
generator to the others. `edge_stack_cpu_ratio` compares the server CPU time per request instead (bare ÷
full): steadier than requests/s when other work shares the machine.
"""

import statistics

from benchmarks._load import TRIVIAL_PATH, cpu_seconds, load, serving

DURATION_S = 2  # whole seconds: wrk takes no fractions
ROUNDS = 6

# The limiter runs on every request, but with a bucket large enough that nothing is rejected; the access
# log writes a line for every request (to the server's stdout, /dev/null here).
SETTINGS = {"rate_limit_capacity": 10**9, "rate_limit_refill_per_s": 10**9, "log_level": "INFO", "log_format": "json",
            "access_log": True}


def run() -> dict[str, float]:
    with serving(SETTINGS, SETTINGS, bare=(False, True)) as (full, bare):
        apps = {"full": full, "bare": bare}
        for app in apps.values():
            load(app.base_url + TRIVIAL_PATH, 1)  # warm up
        rps: dict[str, list[float]] = {"full": [], "bare": []}
        cpu: dict[str, float] = {"full": 0.0, "bare": 0.0}
        ratios, cpu_ratios = [], []
        for round_ in range(ROUNDS):
            for kind in ("full", "bare") if round_ % 2 == 0 else ("bare", "full"):
                before = cpu_seconds(apps[kind])
                rps[kind].append(load(apps[kind].base_url + TRIVIAL_PATH, DURATION_S).rps)
                cpu[kind] = (cpu_seconds(apps[kind]) - before) / (rps[kind][-1] * DURATION_S)
            ratios.append(rps["full"][-1] / rps["bare"][-1])
            cpu_ratios.append(cpu["bare"] / cpu["full"])
    return {
        "edge_stack_ratio": round(statistics.median(ratios), 3),
        "edge_stack_cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "edge_trivial_rps_with_stack": round(statistics.median(rps["full"]), 1),
        "edge_trivial_rps_bare": round(statistics.median(rps["bare"]), 1),
    }


if __name__ == "__main__":
    print(run())
