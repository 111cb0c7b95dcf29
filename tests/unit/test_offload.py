"""The store's threads (connectfed.offload): results, errors and the caller's context come back
to the awaiting request, none is lost when many finish together, and close waits for them."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from connectfed.offload import Offload

REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


def test_results_errors_and_context_come_back_to_the_caller() -> None:
    offload = Offload(2)

    def seen() -> tuple[str, bool]:
        return REQUEST.get(), threading.current_thread() is threading.main_thread()

    def fails() -> None:
        raise KeyError("boom")

    async def run() -> None:
        REQUEST.set("r-1")
        assert await offload.run(seen) == ("r-1", False)
        assert await offload.run(divmod, 7, 2) == (3, 1)
        assert await offload.run(sorted, [3, 1], reverse=True) == [3, 1]
        with pytest.raises(KeyError, match="boom"):
            await offload.run(fails)

    asyncio.run(run())
    offload.close()


def test_many_calls_finishing_together_all_come_back_in_their_own_request() -> None:
    offload = Offload(4)

    async def one(number: int) -> tuple[int, str]:
        REQUEST.set(f"r-{number}")
        return number, await offload.run(lambda: REQUEST.get())

    async def run() -> list[tuple[int, str]]:
        return await asyncio.gather(*(one(n) for n in range(2000)))

    assert asyncio.run(run()) == [(n, f"r-{n}") for n in range(2000)]
    offload.close()


def test_a_cancelled_caller_leaves_the_others_answered_and_close_waits_for_calls_under_way() -> (
    None
):
    offload = Offload(1)
    finished: list[str] = []

    def slow(name: str) -> str:
        time.sleep(0.2)
        finished.append(name)
        return name

    async def run() -> None:
        first = asyncio.ensure_future(offload.run(slow, "cancelled"))
        second = asyncio.ensure_future(offload.run(slow, "kept"))
        await asyncio.sleep(0.05)
        first.cancel()
        assert await second == "kept"
        with pytest.raises(asyncio.CancelledError):
            await first

    asyncio.run(run())
    offload.close()
    assert finished == ["cancelled", "kept"]  # the call under way when cancelled still ran


def test_no_call_after_close() -> None:
    offload = Offload(1)

    async def run() -> None:
        await offload.run(int, "1")
        offload.close()
        with pytest.raises(RuntimeError):
            await offload.run(int, "2")

    asyncio.run(run())
