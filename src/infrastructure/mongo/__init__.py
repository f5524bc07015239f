"""MongoDB adapters: the chunked OHLCV store, sync status, the symbol registry, the embedded server."""
