"""The environment a real AWS client (the AWS CLI, the connectfed CLI) runs in, in tests: none of
the machine's ``AWS_*`` settings, empty config and credentials files, and the given values."""

from __future__ import annotations

import os
from pathlib import Path


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        **values,
    )
    return env
