"""Teleconsultation ids: ObjectIds (the original's type, so existing ids keep working) that nobody can predict.

A standard ObjectId is a timestamp, a per-process random value and a counter: from one id, the next ones are a
counter step away. Here the 8 bytes after the timestamp come from the operating system's CSPRNG, so knowing an id
says nothing about any other; the timestamp keeps ids ordered by creation as MongoDB tools expect.
"""

from __future__ import annotations

import os
import time

RANDOM_BYTES = 8


def unpredictable_object_id() -> str:
    """24 lower-case hex digits: 4 bytes of seconds since the epoch, then 8 bytes from os.urandom."""
    seconds = int(time.time()) & 0xFFFFFFFF
    return seconds.to_bytes(4, "big").hex() + os.urandom(RANDOM_BYTES).hex()
