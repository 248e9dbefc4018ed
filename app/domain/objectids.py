"""Record and line-item ids: ObjectId strings (24 hex digits), made without an ObjectId object each.

Laid out as MongoDB lays out an ObjectId, for the same guarantee: 4 bytes of Unix seconds, 5 random bytes drawn
once per process (anew in a forked child, as bson does), a 3-byte counter that starts at a random value. Two ids
of one process differ unless 2**24 are made within one second; ids of two processes differ in the random bytes.
str(ObjectId()) per line cost about 2 µs, most of it the object, its lock and its pid check.
"""

from __future__ import annotations

import itertools
import os
import time


class ObjectIdSource:
    """Hands out ObjectId-shaped strings; safe to share between threads (the counter is one C-level step)."""

    def __init__(self) -> None:
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._process = os.urandom(5).hex()
        self._counter = itertools.count(int.from_bytes(os.urandom(3), "big"))

    def take(self, count: int) -> list[str]:
        """`count` new ids."""
        prefix = f"{int(time.time()) & 0xFFFFFFFF:08x}{self._process}"
        counter = self._counter
        return [f"{prefix}{next(counter) & 0xFFFFFF:06x}" for _ in range(count)]


IDS = ObjectIdSource()  # record and line-item ids
