"""Conformance: the shared token bucket (``take_throttle``), on every backend."""

from __future__ import annotations

import threading

from connectfed.store import Store
from tests.store.conftest import open_test_store


def test_a_new_bucket_holds_its_burst_then_refuses(store: Store) -> None:
    taken = [store.take_throttle("acct/us-east-1", 1000.0, 2.0, 5) for _ in range(7)]
    assert taken == [True] * 5 + [False] * 2


def test_a_bucket_refills_at_its_rate_up_to_its_burst(store: Store) -> None:
    for _ in range(5):
        assert store.take_throttle("b", 1000.0, 2.0, 5)
    assert not store.take_throttle("b", 1000.0, 2.0, 5)
    assert store.take_throttle("b", 1000.5, 2.0, 5)  # half a second: one request at 2/s
    assert not store.take_throttle("b", 1000.5, 2.0, 5)
    # A long pause refills to the burst, never beyond.
    assert [store.take_throttle("b", 2000.0, 2.0, 5) for _ in range(6)] == [True] * 5 + [False]


def test_buckets_are_independent(store: Store) -> None:
    assert all(store.take_throttle("a", 1.0, 1.0, 2) for _ in range(2))
    assert not store.take_throttle("a", 1.0, 1.0, 2)
    assert store.take_throttle("b", 1.0, 1.0, 2)


def test_a_clock_running_backwards_refills_nothing(store: Store) -> None:
    assert store.take_throttle("c", 1000.0, 10.0, 1)
    assert not store.take_throttle("c", 990.0, 10.0, 1)


def test_concurrent_takers_on_separate_connections_spend_exactly_the_burst(store_url: str) -> None:
    """Processes sharing a database share the bucket: 24 takers at one instant, burst 10,
    exactly 10 succeed (none lost, none counted twice)."""
    stores = [open_test_store(store_url) for _ in range(6)]
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(24)

    def take(index: int) -> None:
        barrier.wait()
        won = stores[index % len(stores)].take_throttle("race", 5000.0, 1.0, 10)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(24)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for backend in stores:
            backend.close()
    assert sorted(results) == [False] * 14 + [True] * 10
