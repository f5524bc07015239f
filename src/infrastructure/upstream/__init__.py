"""Adapters shared by every source: the upstream request budgets (`UpstreamLimiter`)."""
