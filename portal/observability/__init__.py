"""Operability: request ids, structured logging, Prometheus metrics."""
