"""Random CTI requests (random operations, random JSON shaped after each operation's input,
random headers and tokens, valid or not) to the real server, on SQLite and on PostgreSQL (whose
text cannot hold a NUL), never get a 500: each answer is a success or a typed JSON 1.0 error
with a request id, and the server logs no error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import cti
from tests.support.backends import BACKENDS, logged_errors, server_on
from tests.support.server import Server
from tests.support.world import World, build_world

OPERATIONS = cti.model_operations()
# NUL included: PostgreSQL's text cannot hold it (a lone surrogate is fuzzed through the
# model in test_cti_fuzz.py: json.dumps cannot write one).
text = st.text(st.characters(blacklist_categories=("Cs",)) | st.just("\x00"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=10,
)
members = st.sampled_from(
    [
        "authentication",
        "nextToken",
        "timeout",
        "maxResults",
        "state",
        "contactId",
        "endpoint",
        "configuration",
        "refreshToken",
        "routingProfileARN",
        "queueARNs",
        "logEvents",
        "transportType",
        "report",
        "softphoneStreamStatistics",
        "enqueueNextState",
    ]
)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_on(request.param, tmp_path_factory.mktemp("cti-robust")) as server:
        yield server


@pytest.fixture(scope="module")
def world(backend: Server) -> World:
    return build_world(backend, "cti-fuzz")


@pytest.fixture(scope="module")
def tokens(world: World) -> dict[str, Any]:
    return dict(
        world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)["Credentials"]
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operation=st.sampled_from([*OPERATIONS, "Bogus", ""]),
    body=st.dictionaries(members, json_values, max_size=5) | json_values,
    token_choice=st.sampled_from(["access", "refresh", "none", "random", "body"]),
    # header-legal characters: anything else is refused by the HTTP parser before the app
    random_token=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60),
    path=st.sampled_from(["{base}/api", "/api", "/connect/api", "/connect/x/api"]),
    prefix=st.sampled_from(["AmazonConnectCTIService.", "", "Other."]),
    raw=st.none() | st.binary(max_size=40),
)
def test_random_cti_requests_never_get_a_500(
    world: World,
    tokens: dict[str, Any],
    operation: str,
    body: Any,
    token_choice: str,
    random_token: str,
    path: str,
    prefix: str,
    raw: bytes | None,
) -> None:
    token = {
        "access": tokens["AccessToken"],
        "refresh": tokens["RefreshToken"],
        "random": random_token,
        "none": None,
        "body": None,
    }[token_choice]
    if token_choice == "body" and isinstance(body, dict):
        body["authentication"] = {"authToken": tokens["AccessToken"]}
    headers = {"X-Amz-Target": prefix + operation}
    if "timeout" in (body if isinstance(body, dict) else {}):
        body["timeout"] = 0 if not isinstance(body["timeout"], int) else min(body["timeout"], 50)
    answer = cti.call(
        world.server.url,
        path.format(base=f"/connect/{world.instance_id}"),
        None,
        body,
        token=token or None,
        headers=headers,
        raw=raw,
    )
    assert answer.status < 500, answer.body
    assert answer.headers.get("x-amzn-requestid")
    if answer.status >= 400:
        assert isinstance(answer.body, dict), answer.body
        assert answer.body["__type"] == answer.headers["x-amzn-errortype"]
        assert isinstance(answer.body["message"], str)
    else:
        json.dumps(answer.body)
    errors = logged_errors(world.server.output)
    assert errors == []
