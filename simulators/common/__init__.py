"""What every simulator shares: the deterministic minute path, the fault switches, the server shell."""
