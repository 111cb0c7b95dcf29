"""The quick start is true: the commands `serve --demo` prints work with the unmodified AWS CLI."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support.server import start_server


def test_printed_demo_commands_work_with_the_aws_cli(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "data", "--demo")
    try:
        lines = [line.strip() for line in srv.output]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
        for line in lines:
            if line.startswith("export AWS_"):
                name, value = line.removeprefix("export ").split("=", 1)
                env[name] = value
        assume = next(line for line in lines if line.startswith("aws sts assume-role"))
        federate = next(line for line in lines if line.startswith("aws connect"))

        def aws(command: str) -> dict:
            done = subprocess.run([sys.executable, "-m", "awscli", *shlex.split(command)[1:]],
                                  env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout)

        creds = aws(assume)["Credentials"]
        env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"])
        result = aws(federate)
        assert result["Credentials"]["AccessToken"].startswith("cfa_")
        assert result["UserArn"].endswith(result["UserId"])
    finally:
        srv.stop()
