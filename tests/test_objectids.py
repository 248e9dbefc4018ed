"""Line-item ids: ObjectId strings, unique within and across processes, cheap to make."""

from __future__ import annotations

import os
import re
import time

from bson import ObjectId

from app.domain.objectids import ObjectIdSource

HEX24 = re.compile(r"[0-9a-f]{24}")


def test_ids_are_object_ids_of_now_and_all_different() -> None:
    source = ObjectIdSource()
    ids = source.take(5) + source.take(1000)
    assert all(HEX24.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    stamp = ObjectId(ids[0]).generation_time.timestamp()
    assert abs(stamp - time.time()) < 5
    counters = [int(i[18:], 16) for i in ids[:5]]
    assert counters == [(counters[0] + k) & 0xFFFFFF for k in range(5)]


def test_two_sources_differ_in_their_process_part() -> None:
    first, second = ObjectIdSource().take(1)[0], ObjectIdSource().take(1)[0]
    assert first[8:18] != second[8:18]


def test_a_forked_child_draws_its_own_process_part() -> None:
    source = ObjectIdSource()
    parent = source.take(1)[0]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id and leave at once
        os.write(write, source.take(1)[0].encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert HEX24.fullmatch(child) and child[8:18] != parent[8:18]
