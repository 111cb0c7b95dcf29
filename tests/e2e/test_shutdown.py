"""Stopping ``connectfed serve`` with SIGTERM (a supervisor, ``docker stop``) or SIGINT (Ctrl-C
in a terminal), with one process or ``--workers``: the request under way is answered, a new
connection is refused at once (it does not wait in a backlog nobody accepts from), and the
command exits 0 without a traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
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


def test_a_command_interrupted_by_ctrl_c_exits_130_without_a_traceback() -> None:
    # `connectfed admin` waiting on a server that never answers, stopped by Ctrl-C: the
    # shell's convention (128 + SIGINT) and one line, as the AWS CLI does; it was a
    # KeyboardInterrupt traceback and death by the signal.
    binary = Path(sys.executable).with_name("connectfed")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        process = subprocess.Popen(
            [str(binary), "admin", "--endpoint-url", url, "--admin-token", "t", "clock"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 130, (process.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
