"""`make bench`: run every benchmark module and print one flat JSON object of figures.

Each module `benchmarks/bench_*.py` exposes `run() -> dict[str, float]` (sync or async). Figures that
compare against a baseline measure that baseline in the same run: these machines are noisy.
"""

import asyncio
import importlib
import inspect
import json
import os
import pkgutil
import sys
import time

import benchmarks


def main() -> int:
    # The figures are stdout's only content: whatever the benchmarks, the services they start (in this
    # process or as children) and their logs print goes to stderr.
    sys.stdout.flush()
    figures_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    only = set(sys.argv[1:])
    figures: dict[str, float | str] = {}
    for module_info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("bench_"):
            continue
        if only and module_info.name.removeprefix("bench_") not in only:
            continue
        module = importlib.import_module(f"benchmarks.{module_info.name}")
        started = time.perf_counter()
        result = module.run()
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        figures.update(result)
        print(f"{module_info.name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    print(json.dumps(figures, sort_keys=True), file=figures_out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
