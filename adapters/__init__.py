"""Adapters: implementations of the application ports, one package per technology."""
