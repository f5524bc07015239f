"""The webhooks slice: domain events POSTed to the configured URLs, and the dead letters of failed ones."""
