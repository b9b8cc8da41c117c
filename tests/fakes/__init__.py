"""Fakes of external systems, served over real sockets for adapter tests, benchmarks and fault runs."""
