"""Installs: a plain ``pip install connectfed`` is the client and its command, without the
server's stack or the AWS CLI; the server (``connectfed[server]``) does not need the AWS CLI;
``--output table`` asks for ``connectfed[table]`` when the AWS CLI is absent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import IN_CI
from tests.support.server import Server
from tests.support.world import build_world

REPO = Path(__file__).resolve().parents[2]
SERVER_STACK = (
    "uvicorn",
    "httptools",
    "cryptography",
    "psycopg",
    "signxml",
    "lxml",
    "xmlsec",
    "platformdirs",
)


def _closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every installed distribution ``name[extras]`` pulls in, by normalised name."""
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        key = current.lower().replace("_", "-")
        if (key in seen and not wanted) or key in ("pip", "setuptools"):
            continue
        seen.add(key)
        try:
            requires = metadata.distribution(current).requires or []
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform (uvloop on Windows...)
        for line in requires:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in (*wanted, "")):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_the_server_needs_no_aws_cli_and_the_client_no_server() -> None:
    assert "awscli" in _closure("connectfed", frozenset({"table"}))  # the walk sees extras
    server = _closure("connectfed", frozenset({"server"}))
    assert "uvicorn" in server and "signxml" in server
    assert "awscli" not in server
    plain = _closure("connectfed")
    assert not plain & {"awscli", *SERVER_STACK}, plain


def _copy_project(target: Path) -> Path:
    """The project's installable files only (no build output lands in the worktree)."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, target / name)
    shutil.copytree(
        REPO / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    return target


@pytest.mark.install
def test_a_client_only_install_federates_without_the_server_or_the_aws_cli(
    tmp_path: Path, server: Server
) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one (pip --python): from PyPI, or its cache.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            str(_copy_project(tmp_path / "project")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        if IN_CI:
            pytest.fail(f"pip install failed:\n{done.stderr}")
        pytest.skip(f"pip could not install (offline?): {done.stderr[-500:]}")
    listed = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, json; print(json.dumps("
            "sorted(d.metadata['Name'].lower() for d in m.distributions())))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = set(json.loads(listed.stdout))
    assert "connectfed" in installed and "botocore" in installed
    assert not installed & {"awscli", *SERVER_STACK}, installed
    for module in ("uvicorn", "awscli"):
        probe = subprocess.run(
            [str(python), "-c", f"import {module}"], capture_output=True, timeout=60
        )
        assert probe.returncode != 0, module

    command = str(venv / "bin" / "connectfed")
    helped = subprocess.run(
        [command, "get-federation-token", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0 and "--instance-id" in helped.stdout
    served = subprocess.run([command, "serve"], capture_output=True, text=True, timeout=60)
    assert served.returncode == 2
    assert "pip install 'connectfed[server]'" in served.stderr

    world = build_world(server, "clientonly")
    creds = world.assume("agent1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    federate = [
        command,
        "get-federation-token",
        "--instance-id",
        world.instance_id,
        "--endpoint-url",
        server.url,
        "--region",
        server.region,
    ]
    done = subprocess.run(federate, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Credentials"]["AccessToken"].startswith("cfa_")
    table = subprocess.run(
        [*federate, "--output", "table"], capture_output=True, text=True, env=env, timeout=60
    )
    assert table.returncode == 255 and table.stdout == ""
    assert "pip install 'connectfed[table]'" in table.stderr
