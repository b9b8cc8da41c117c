"""Persistence adapters: the repository contract on every implementation, and MongoDB specifics."""
