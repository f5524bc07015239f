"""One package per data source; each owns its vocabulary and exposes a `Provider` factory."""
