"""Helpers for Tapline's integration tests: origin servers, the proxy process,
raw-socket HTTP, curl. Everything listens on and talks to 127.0.0.1 only."""
