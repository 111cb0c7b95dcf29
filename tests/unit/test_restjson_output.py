"""restJson1 output as botocore reads it: what ``serialize_output`` writes for a result, parsed
by botocore's own response parser, is that result (timestamps as epoch seconds, nested lists and
maps, members absent when None), whatever the order results are written in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.parsers import create_parser

from connectfed.wire import restjson
from connectfed.wire.model import service_model

CONNECT = service_model("connect")
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _parsed(operation: str, result: dict[str, Any]) -> dict[str, Any]:
    model = CONNECT.operation_model(operation)
    status, headers, body = restjson.serialize_output(model, result)
    parsed = create_parser("rest-json").parse(
        {"status_code": status, "headers": headers, "body": body}, model.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    return dict(parsed)


FEDERATION = {
    "Credentials": {
        "AccessToken": "cfa_access",
        "AccessTokenExpiration": NOW + timedelta(hours=1),
        "RefreshToken": "cfr_refresh",
        "RefreshTokenExpiration": NOW + timedelta(hours=12, milliseconds=250),
    },
    "SignInUrl": "https://connect.example/connect/i-1/auth/sign-in?code=cfs_code",
    "UserArn": "arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1",
    "UserId": "u-1",
}
USERS = {
    "UserSummaryList": [
        {"Id": "u-1", "Arn": "arn:1", "Username": "agent1"},
        {"Id": "u-2", "Arn": "arn:2", "Username": "agent2"},
    ],
    "NextToken": None,
}


@pytest.mark.parametrize(
    ("operation", "result"),
    [("GetFederationToken", FEDERATION), ("ListUsers", USERS)],
)
def test_botocore_reads_back_what_was_written(operation: str, result: dict[str, Any]) -> None:
    expected = {k: v for k, v in result.items() if v is not None}
    for _ in range(3):  # the first write plans the shape; later ones use the plan
        assert _parsed(operation, result) == expected


def test_the_body_is_compact_and_in_the_models_member_order() -> None:
    model = CONNECT.operation_model("GetFederationToken")
    _, _, body = restjson.serialize_output(model, dict(reversed(FEDERATION.items())))
    document = json.loads(body)
    assert list(document) == [n for n in model.output_shape.members if n in FEDERATION]
    assert document["Credentials"]["AccessTokenExpiration"] == 1767272400
    assert document["Credentials"]["RefreshTokenExpiration"] == 1767312000.25
    assert b", " not in body and b": " not in body
