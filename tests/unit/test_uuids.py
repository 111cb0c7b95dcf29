"""Request ids (connectfed.uuids): canonical version 4 UUIDs, never repeated, not by threads
sharing the read-ahead pool nor by a process forked after it was filled."""

from __future__ import annotations

import os
import re
import threading
import uuid

from connectfed import uuids

CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_ids_are_canonical_version_4_uuids() -> None:
    for _ in range(2000):  # several refills of the pool
        text = uuids.uuid4()
        assert CANONICAL.fullmatch(text), text
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_threads_never_get_the_same_id() -> None:
    seen: list[list[str]] = [[] for _ in range(8)]
    barrier = threading.Barrier(8)

    def take(index: int) -> None:
        barrier.wait()
        seen[index] = [uuids.uuid4() for _ in range(3000)]

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [text for ids in seen for text in ids]
    assert len(set(every)) == len(every) == 8 * 3000


def test_a_forked_process_does_not_repeat_its_parents_ids() -> None:
    uuids.uuid4()  # the pool now holds ids read ahead
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        try:
            os.write(write, "\n".join(uuids.uuid4() for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split("\n")
    os.waitpid(pid, 0)
    parent = [uuids.uuid4() for _ in range(50)]
    assert len(child) == 50
    assert not set(child) & set(parent)
