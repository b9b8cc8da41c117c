"""Tests of the VideoProvider adapters."""
