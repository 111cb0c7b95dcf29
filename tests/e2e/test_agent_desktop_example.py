"""examples/agent-desktop run as README says (``python examples/agent-desktop/server.py``), by
the Python of ``scripts/demo``'s environment: ``connectfed[server]``, so botocore but no boto3.
Its ``/sign-in`` then sends the agent to the test IdP instead of calling GetFederationToken."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path

from tests.support.server import free_port

DESKTOP = Path(__file__).resolve().parents[2] / "examples" / "agent-desktop" / "server.py"


def test_sign_in_without_boto3_sends_the_agent_to_the_test_idp(tmp_path: Path) -> None:
    shadow = tmp_path / "no-boto3"
    shadow.mkdir()
    (shadow / "boto3.py").write_text("raise ImportError('No module named boto3')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), env.get("PYTHONPATH", "")])
    port = free_port()
    connectfed = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [
            sys.executable,
            str(DESKTOP),
            "--connectfed",
            connectfed,
            "--instance-id",
            "11111111-2222-4333-8444-555555555555",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("agent desktop on ")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/sign-in")
        response = conn.getresponse()
        assert (response.status, response.getheader("Location")) == (303, f"{connectfed}/idp")
        conn.close()
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "Traceback" not in errors, errors
