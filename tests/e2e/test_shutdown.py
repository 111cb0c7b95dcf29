"""Stopping ``connectfed serve`` with SIGTERM (a supervisor, ``docker stop``) or SIGINT (Ctrl-C
in a terminal), with one process or ``--workers``: the request under way is answered, a new
connection is refused at once (it does not wait in a backlog nobody accepts from), and the
command exits 0 without a traceback."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectfed.client import FaultSpec
from tests.support.admin import admin, start_admin_server

LATENCY_MS = 2500


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_answers_what_it_began_and_refuses_what_comes_after(
    tmp_path: Path, workers: str, signum: signal.Signals
) -> None:
    server = start_admin_server(tmp_path / "data", "--workers", workers)
    server.follow_output()
    try:
        admin(server).add_fault(
            FaultSpec("sts", "GetCallerIdentity", latency_ms=LATENCY_MS, count=1)
        )
        answers: list[str] = []

        def call() -> None:
            identity = server.client("sts", read_timeout=30).get_caller_identity()
            answers.append(identity["Account"])

        in_flight = threading.Thread(target=call)
        in_flight.start()
        time.sleep(1.0)  # the call is waiting out its latency inside the server
        server.process.send_signal(signum)
        time.sleep(0.5)
        port = urlsplit(server.url).port
        assert port is not None
        with socket.socket() as probe:
            probe.settimeout(1.0)
            with pytest.raises(ConnectionRefusedError):
                probe.connect(("127.0.0.1", port))  # a backlog left open times out instead
        in_flight.join(timeout=30)
        assert answers, "the request under way was not answered"
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()
    output = "".join(server.output)
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
