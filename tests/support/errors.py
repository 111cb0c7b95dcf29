"""The AWS error a client call raised, as one dict for assertions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def aws_error(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``call(*args, **kwargs)`` must raise a ClientError: its ``Error`` (Code, Message, …) with
    the answer's HTTP status as ``Status``."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return dict(
        caught.value.response["Error"],
        Status=caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
    )
