"""The server's connection writes (server/protocol.py): what one event-loop step writes leaves
in one send, in order; closing sends what is held first; nothing is sent to a closed peer."""

from __future__ import annotations

import asyncio
from typing import Any

from connectfed.server.protocol import _Corked


class _Transport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def write_eof(self) -> None:
        self.events.append("eof")

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


def test_one_steps_writes_leave_together_in_order_and_close_sends_them_first() -> None:
    async def run() -> tuple[list[bytes], list[str], Any]:
        transport = _Transport()
        corked = _Corked(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
        corked.write(b"body")
        assert transport.sent == []  # held until the step ends
        await asyncio.sleep(0)
        corked.write(b"next")
        corked.write_eof()  # sends what is held first
        corked.write(b"last")
        corked.close()
        return transport.sent, transport.events, corked.get_extra_info("peername")

    sent, events, peer = asyncio.run(run())
    assert sent == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next", b"last"]
    assert events == ["eof", "close"]
    assert peer == ("127.0.0.1", 1)  # everything else is the transport's own


def test_nothing_is_sent_once_the_peer_is_gone() -> None:
    async def run() -> list[bytes]:
        transport = _Transport()
        corked = _Corked(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"answer")
        transport.closing = True  # connection lost before the step ended
        await asyncio.sleep(0)
        return transport.sent

    assert asyncio.run(run()) == []
