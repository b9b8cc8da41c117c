"""Outbound webhooks over HTTP, signed as Standard Webhooks prescribe."""
