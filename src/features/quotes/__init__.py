"""The real-time quotes slice: the live quote session, live bars at every interval, REST and WebSocket."""
