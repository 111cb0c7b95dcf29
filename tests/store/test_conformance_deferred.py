"""The storage conformance suite, deferred writes (``store/deferred.py``): a token family (or
an STS session) created while a request is answered is committed by the store's writer before
the request's reply, in batches with the other requests' writes; one that fails fails alone.
Outside a request the write is committed before the call returns, as before. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import threading

from connectfed.store import Conflict, Store, deferred
from connectfed.store.records import Session, TokenFamily


def _family(family_id: str) -> TokenFamily:
    return TokenFamily(family_id, "i-1", "u-1", "ASIA1", "arn:role/r", 1.0, 100.0, None, ())


def _create_in_request(store: Store, family_id: str) -> list[deferred.PendingWrite]:
    """What a request's handler does: the write is collected, not waited for."""
    with deferred.collecting() as writes:
        store.create_token_family(_family(family_id))
    return writes


def test_outside_a_request_the_family_is_committed_before_the_call_returns(store: Store) -> None:
    assert deferred.collector() is None
    store.create_token_family(_family("f-direct"))
    family = store.get_token_family("f-direct")
    assert family is not None and family.user_id == "u-1"


def test_in_a_request_the_write_is_collected_and_committed_before_the_reply(
    store: Store,
) -> None:
    writes = _create_in_request(store, "f-req")
    assert len(writes) == 1
    assert asyncio.run(deferred.all_durable(writes)) is True
    assert writes[0].done and writes[0].error is None
    assert store.get_token_family("f-req") is not None


def test_concurrent_requests_writes_all_commit_and_each_waits_only_for_its_own(
    store: Store,
) -> None:
    count = 40
    barrier = threading.Barrier(8)
    collected: dict[str, list[deferred.PendingWrite]] = {}

    def handler(worker: int) -> None:
        barrier.wait()
        for index in range(count // 8):
            family_id = f"f-{worker}-{index}"
            collected[family_id] = _create_in_request(store, family_id)

    threads = [threading.Thread(target=handler, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def replies() -> list[bool]:
        return list(await asyncio.gather(*(deferred.all_durable(w) for w in collected.values())))

    assert asyncio.run(replies()) == [True] * count
    for family_id in collected:
        assert store.get_token_family(family_id) is not None, family_id


def test_a_failing_write_fails_alone_and_the_rest_of_its_batch_commits(store: Store) -> None:
    store.create_token_family(_family("f-taken"))
    with deferred.collecting() as writes:
        for family_id in ("f-a", "f-taken", "f-b"):  # queued together: likely one batch
            store.create_token_family(_family(family_id))
    assert asyncio.run(deferred.all_durable(writes)) is False
    assert [w.error is None for w in writes] == [True, False, True]
    assert isinstance(writes[1].error, Conflict)
    assert store.get_token_family("f-a") is not None
    assert store.get_token_family("f-b") is not None


def test_closing_the_store_commits_what_was_queued(store_url: str) -> None:
    from tests.store.conftest import open_test_store

    first = open_test_store(store_url)
    writes = _create_in_request(first, "f-at-close")
    first.close()  # no one awaited the write: the close still commits it
    assert writes[0].done and writes[0].error is None
    again = open_test_store(store_url)
    try:
        assert again.get_token_family("f-at-close") is not None
    finally:
        again.close()


def test_a_session_created_in_a_request_is_committed_before_the_reply(store: Store) -> None:
    session = Session(
        "ASIADEFERRED0000001",
        "secret",
        "token-hash",
        "123456789012",
        "arn:aws:iam::123456789012:role/r",
        "AROA1",
        "r",
        "agent1",
        "AssumeRole",
        1.0,
        100.0,
    )
    with deferred.collecting() as writes:
        store.create_session(session)
    assert len(writes) == 1
    assert asyncio.run(deferred.all_durable(writes)) is True
    stored = store.get_session("ASIADEFERRED0000001")
    assert stored is not None and stored.secret_access_key == "secret"
