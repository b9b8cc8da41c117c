"""Fault injection: the real service over HTTP against a fake Kaleyra that fails, hangs and resets."""
