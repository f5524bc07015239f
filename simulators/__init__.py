"""Development and test doubles of PocketQuant's market-data sources, one package per source.

Each simulator is an aiohttp server that speaks its source's public protocol (shapes, error bodies, limits,
headers, paging edges) over a deterministic synthetic market, with fault switches for tests, and runs
standalone with `python -m simulators.<name>`. None of them imports the service (`src`).
"""
