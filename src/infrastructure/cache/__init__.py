"""Cache adapters (Redis, in-process) and the cache key scheme."""
