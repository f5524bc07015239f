"""Outbound notifications: signed webhook deliveries with retries and dead letters."""
