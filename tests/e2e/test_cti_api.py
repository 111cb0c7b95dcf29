"""The CTI agent API Streams' worker calls, against a real server: the agent's configuration,
states and snapshot, state changes seen by the long poll, typed errors for what this server
does not do, and the token rules on every operation of the model shipped with Streams."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_or_skip
from tests.support import cti, raw_http
from tests.support.browser import Browser
from tests.support.server import Server, start_server
from tests.support.world import World, build_world

OPERATIONS = cti.model_operations()
# A body that satisfies every operation's required members, so token checks are what fails.
ANY_BODY: dict[str, Any] = {
    "contactId": "c-1",
    "connectionId": "k-1",
    "endpoint": {"type": "TELEPHONE_NUMBER"},
    "name": "n",
    "refreshToken": "cfr_x",
    "routingProfileARN": "arn",
    "queueARNs": [],
    "logEvents": [],
    "state": {"type": "routable", "name": "Available"},
    "configuration": {
        "name": "n",
        "softphoneEnabled": True,
        "softphoneAutoAccept": False,
        "extension": "",
        "routingProfile": {},
    },
    "transportType": "web_socket",
    "softphoneStreamStatistics": [],
    "report": {},
    "digits": "1",
    "targetMonitorMode": "SILENT_MONITOR",
}


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return build_world(server, "cti")


@pytest.fixture(scope="module")
def tokens(world: World) -> dict[str, Any]:
    result = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
    return dict(result["Credentials"])


def _api(world: World) -> str:
    return f"/connect/{world.instance_id}/api"


def _call(
    world: World, tokens: dict[str, Any], operation: str, body: Any = None, **kw: Any
) -> cti.CtiAnswer:
    return cti.call(
        world.server.url,
        _api(world),
        operation,
        body,
        token=kw.pop("token", tokens["AccessToken"]),
        **kw,
    )


def test_configuration_names_the_agent_and_its_routing_profile(
    world: World, tokens: dict[str, Any]
) -> None:
    answer = _call(world, tokens, "GetAgentConfiguration")
    assert answer.status == 200
    config = answer.body["configuration"]
    assert config["username"] == "agent1"
    assert config["softphoneEnabled"] is True
    profile = config["routingProfile"]
    assert profile["name"] == "Basic Routing Profile"
    assert profile["routingProfileARN"].startswith(
        f"arn:aws:connect:us-east-1:123456789012:instance/{world.instance_id}/routing-profile/"
    )
    queues = _call(
        world,
        tokens,
        "GetRoutingProfileQueues",
        {"routingProfileARN": profile["routingProfileARN"]},
    ).body["queues"]
    assert profile["defaultOutboundQueue"] in queues
    assert any("/queue/agent/" in q["queueARN"] for q in queues)  # the agent's own queue
    other = _call(world, tokens, "GetRoutingProfileQueues", {"routingProfileARN": "arn:x"})
    assert (other.status, other.error) == (403, "AccessDeniedException")


def test_the_configuration_names_a_language_and_round_trips(
    world: World, tokens: dict[str, Any]
) -> None:
    """Streams' ``agent.setConfiguration`` refuses by itself a configuration whose
    ``agentPreferences`` has no language; it sends the language as ``LANGUAGE`` and
    ``locale``."""
    config = _call(world, tokens, "GetAgentConfiguration").body["configuration"]
    assert config["agentPreferences"] == {"LANGUAGE": "en_US"}
    config["agentPreferences"]["locale"] = "en_US"
    same = _call(world, tokens, "UpdateAgentConfiguration", {"configuration": config})
    assert same.status == 200, same.body
    config["agentPreferences"] = {"LANGUAGE": "de_DE", "locale": "de_DE"}
    changed = _call(world, tokens, "UpdateAgentConfiguration", {"configuration": config})
    assert (changed.status, changed.error) == (400, "InvalidConfigurationException")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"softphoneEnabled": False, "extension": ""}, "needs a phone number"),
        ({"softphoneEnabled": False, "extension": "18005550100"}, "E.164"),
        ({"extension": "+1 800 555 0100"}, "E.164"),
        ({"softphoneAutoAccept": True}, "softphoneAutoAccept"),
    ],
)
def test_an_agent_phone_connect_would_refuse_is_invalid_configuration(
    world: World, tokens: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    config = _call(world, tokens, "GetAgentConfiguration").body["configuration"]
    refused = _call(
        world, tokens, "UpdateAgentConfiguration", {"configuration": {**config, **change}}
    )
    assert (refused.status, refused.error) == (400, "InvalidConfigurationException")
    assert message in refused.body["message"]
    assert _call(world, tokens, "GetAgentConfiguration").body["configuration"] == config


def test_put_agent_state_shows_in_the_snapshot_and_wakes_the_long_poll(
    world: World, tokens: dict[str, Any]
) -> None:
    states = _call(world, tokens, "GetAgentStates").body["states"]
    by_type = {s["type"]: s for s in states}
    assert {"routable", "offline"} <= set(by_type)
    _call(world, tokens, "PutAgentState", {"state": by_type["offline"]})
    first = _call(world, tokens, "GetAgentSnapshot").body
    assert first["snapshot"]["state"]["name"] == by_type["offline"]["name"]
    assert first["snapshot"]["contacts"] == []
    woken: list[cti.CtiAnswer] = []
    poll = threading.Thread(
        target=lambda: woken.append(
            _call(
                world,
                tokens,
                "GetAgentSnapshot",
                {"nextToken": first["nextToken"], "timeout": 30000},
            )
        )
    )
    poll.start()
    assert _call(world, tokens, "PutAgentState", {"state": by_type["routable"]}).status == 200
    poll.join(40)
    assert woken and woken[0].status == 200
    snapshot = woken[0].body["snapshot"]
    assert snapshot["state"]["type"] == "routable"
    assert snapshot["agentAvailabilityState"]["state"] == by_type["routable"]["name"]
    assert woken[0].body["nextToken"] != first["nextToken"]


def test_an_unchanged_state_answers_at_the_timeout(world: World, tokens: dict[str, Any]) -> None:
    current = _call(world, tokens, "GetAgentSnapshot").body
    again = _call(
        world, tokens, "GetAgentSnapshot", {"nextToken": current["nextToken"], "timeout": 200}
    )
    assert again.status == 200
    assert again.body["nextToken"] == current["nextToken"]


def test_another_agents_next_token_is_answered_at_once(
    world: World, tokens: dict[str, Any]
) -> None:
    """A snapshot's nextToken names a version of its own agent's state. A worker that kept the
    token of the agent signed in before (a shared workstation, a new sign-in as someone else)
    gets the new agent's state at once, not after waiting for the other agent's version."""
    states = {s["type"]: s for s in _call(world, tokens, "GetAgentStates").body["states"]}
    for kind in ("routable", "offline", "routable", "offline"):  # agent1's version grows
        assert _call(world, tokens, "PutAgentState", {"state": states[kind]}).status == 200
    agent1 = _call(world, tokens, "GetAgentSnapshot").body
    other = world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
    tokens2 = dict(other["Credentials"])
    started = time.monotonic()
    answer = _call(
        world,
        tokens2,
        "GetAgentSnapshot",
        {"nextToken": agent1["nextToken"], "timeout": 5000},
    )
    assert answer.status == 200
    assert time.monotonic() - started < 2.5
    assert answer.body["nextToken"] != agent1["nextToken"]
    own = _call(
        world, tokens2, "GetAgentSnapshot", {"nextToken": answer.body["nextToken"], "timeout": 200}
    )
    assert own.body["nextToken"] == answer.body["nextToken"]  # its own token still waits


def _long_poll(
    world: World, tokens: dict[str, Any], timeout_ms: int
) -> tuple[threading.Thread, list[cti.CtiAnswer]]:
    """A GetAgentSnapshot long poll from the agent's current state, waiting in a thread; its
    answer lands in the list."""
    first = _call(world, tokens, "GetAgentSnapshot").body
    answers: list[cti.CtiAnswer] = []
    params = {"nextToken": first["nextToken"], "timeout": timeout_ms}
    poll = threading.Thread(
        target=lambda: answers.append(_call(world, tokens, "GetAgentSnapshot", params))
    )
    poll.start()
    return poll, answers


@pytest.mark.parametrize("deleted", ["user", "instance"])
def test_a_long_poll_whose_agent_is_deleted_meanwhile_ends_the_session(
    server: Server, deleted: str
) -> None:
    """Streams re-authorises on 401; a 500 would only make it poll again."""
    world = build_world(server, f"cti-deleted-{deleted}")
    user_id = world.add_agent("agent5")
    result = world.connect_as("agent5").get_federation_token(InstanceId=world.instance_id)
    tokens = dict(result["Credentials"])
    poll, answers = _long_poll(world, tokens, 2000)
    time.sleep(0.5)  # the poll is waiting
    connect = server.client("connect")
    if deleted == "user":
        connect.delete_user(InstanceId=world.instance_id, UserId=user_id)
    else:
        connect.delete_instance(InstanceId=world.instance_id)
    poll.join(10)
    assert answers and (answers[0].status, answers[0].error) == (401, "UnauthorizedException")
    assert answers[0].body["message"]
    assert _call(world, tokens, "GetAgentSnapshot").status == 401


def _signed_in_and_polling(
    world: World, wait_ms: int
) -> tuple[Browser, threading.Thread, list[cti.CtiAnswer]]:
    """agent2 signed in in a browser, and a long poll of theirs (``wait_ms``) waiting."""
    result = world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
    browser = Browser(world.server.url)
    assert browser.get(result["SignInUrl"]).status == 303
    poll, answers = _long_poll(world, dict(result["Credentials"]), wait_ms)
    time.sleep(0.5)  # the poll is waiting
    return browser, poll, answers


def test_a_long_poll_over_a_sign_out_answers_401_not_the_agents_data(world: World) -> None:
    """Signing out in one tab ends the session everywhere: a poll that was waiting (another
    tab's CCP) answers that, not the agent's state after the sign-out."""
    browser, poll, answers = _signed_in_and_polling(world, 1500)
    assert browser.get(f"/connect/{world.instance_id}/logout").status == 200
    poll.join(10)
    assert answers and (answers[0].status, answers[0].error) == (401, "UnauthorizedException")


@pytest.mark.parametrize("how", ["sign-out", "signed-in-again"])
def test_a_long_poll_ends_at_once_when_its_session_is_ended_elsewhere(
    world: World, how: str
) -> None:
    """A CCP in another tab waits up to 30 s for the agent's state; ending the session (signing
    out, or signing in again as someone else over it) answers that poll at once with 401, as
    Streams then signs in again, not 30 s later."""
    browser, poll, answers = _signed_in_and_polling(world, 30000)
    ended = time.monotonic()
    if how == "sign-out":
        assert browser.get(f"/connect/{world.instance_id}/logout").status == 200
    else:
        other = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
        assert browser.get(other["SignInUrl"]).status == 303
    poll.join(40)
    assert answers and (answers[0].status, answers[0].error) == (401, "UnauthorizedException")
    assert time.monotonic() - ended < 5  # not at the end of its 30 s


def test_a_long_poll_ends_within_a_poll_when_another_server_signs_out(tmp_path: Path) -> None:
    url = postgres_or_skip()
    first = start_server(tmp_path / "a", "--throttle-rate", "0", database_url=url)
    second = start_server(tmp_path / "b", "--throttle-rate", "0", database_url=url)
    try:
        world = build_world(first, "cti-two-servers")
        result = world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
        tokens = dict(result["Credentials"])
        browser = Browser(first.url)
        assert browser.get(result["SignInUrl"]).status == 303
        poll, answers = _long_poll(world, tokens, 30000)  # waiting on the first server
        time.sleep(0.5)
        ended = time.monotonic()
        elsewhere = Browser(second.url, dict(browser.cookies))
        assert elsewhere.get(f"/connect/{world.instance_id}/logout").status == 200
        poll.join(40)
        assert answers and (answers[0].status, answers[0].error) == (401, "UnauthorizedException")
        assert time.monotonic() - ended < 5
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize(
    "operation,body,error,status",
    [
        (
            "PutAgentState",
            {"state": {"type": "routable", "name": "Nope"}},
            "InvalidStateException",
            400,
        ),
        ("CreateTransport", {"transportType": "web_socket"}, "InvalidStateException", 400),
        ("AcceptContact", {"contactId": "c-1"}, "InvalidStateException", 400),
        (
            "CreateOutboundContact",
            {"endpoint": {"type": "TELEPHONE_NUMBER"}},
            "InvalidStateException",
            400,
        ),
        ("GetAgentSnapshot", {"nextToken": "forged"}, "ValidationException", 400),
        ("GetAgentStates", {"nextToken": "forged"}, "PaginationException", 400),
        ("GetAgentStates", {"maxResults": 0}, "ValidationException", 400),
        ("GetAgentPermissions", {"maxResults": -1}, "ValidationException", 400),
        ("PutAgentState", {}, "ValidationException", 400),
        ("PutAgentState", {"state": "Available"}, "SerializationException", 400),
        ("GetNewAuthToken", {"refreshToken": "cfr_forged"}, "RefreshTokenExpiredException", 401),
        ("NoSuchOperation", {}, "UnknownOperationException", 400),
    ],
)
def test_typed_errors(
    world: World, tokens: dict[str, Any], operation: str, body: Any, error: str, status: int
) -> None:
    answer = _call(world, tokens, operation, body)
    assert (answer.status, answer.error) == (status, error)
    assert answer.headers["x-amzn-errortype"] == error
    assert answer.body["message"]


def test_client_telemetry_is_accepted(world: World, tokens: dict[str, Any]) -> None:
    logs = {"logEvents": [{"timestamp": 1.7e9, "component": "ccp", "message": "hello"}]}
    assert _call(world, tokens, "SendClientLogs", logs).status == 200


def test_get_new_auth_token_spends_the_refresh_token(world: World) -> None:
    fresh = world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)[
        "Credentials"
    ]
    answer = _call(world, fresh, "GetNewAuthToken", {"refreshToken": fresh["RefreshToken"]})
    assert answer.status == 200
    new = answer.body["newAuthToken"]
    assert new != fresh["AccessToken"]
    assert _call(world, fresh, "GetAgentConfiguration", token=new).status == 200
    again = _call(world, fresh, "GetNewAuthToken", {"refreshToken": fresh["RefreshToken"]})
    assert (again.status, again.error) == (401, "RefreshTokenExpiredException")


def test_malformed_body_and_header_token_mismatch(world: World, tokens: dict[str, Any]) -> None:
    bad = cti.call(
        world.server.url,
        _api(world),
        "GetAgentSnapshot",
        raw=b"{not json",
        token=tokens["AccessToken"],
    )
    assert (bad.status, bad.error) == (400, "SerializationException")
    mismatch = _call(
        world, tokens, "GetAgentSnapshot", {"authentication": {"authToken": "cfa_other"}}
    )
    assert (mismatch.status, mismatch.error) == (401, "UnauthorizedException")
    in_body = cti.call(
        world.server.url,
        _api(world),
        "GetAgentSnapshot",
        {"authentication": {"authToken": tokens["AccessToken"]}},
    )
    assert in_body.status == 200


@pytest.mark.parametrize("path", ["/api", "/connect/api"])
def test_paths_without_instance_resolve_it_from_the_token(
    world: World, tokens: dict[str, Any], path: str
) -> None:
    answer = cti.call(world.server.url, path, "GetAgentConfiguration", token=tokens["AccessToken"])
    assert answer.status == 200
    assert answer.body["configuration"]["username"] == "agent1"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_refuses_bad_tokens(
    world: World, tokens: dict[str, Any], operation: str
) -> None:
    refused = {
        "no token": (None, _api(world), 401, "UnauthorizedException"),
        "malformed": ("not-a-token", _api(world), 401, "UnauthorizedException"),
        "refresh as access": (tokens["RefreshToken"], _api(world), 401, "UnauthorizedException"),
        "another instance": (
            tokens["AccessToken"],
            "/connect/0000-other/api",
            403,
            "AccessDeniedException",
        ),
    }
    for case, (token, path, status, error) in refused.items():
        answer = cti.call(world.server.url, path, operation, ANY_BODY, token=token)
        assert (answer.status, answer.error) == (status, error), case


def _head(world: World, tokens: dict[str, Any], extra: bytes) -> bytes:
    return (
        f"POST {_api(world)} HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: AmazonConnectCTIService.GetAgentSnapshot\r\n"
        f"X-Amz-Bearer: {tokens['AccessToken']}\r\nConnection: close\r\n"
    ).encode() + extra


REFUSED_BEFORE_READ = {
    # Past the body limit (1 MiB): the app's 413.
    "body too large": (
        b"Content-Length: 2097152\r\n\r\n" + b" " * 2097152,
        413,
        "RequestEntityTooLargeException",
    ),
    # Past the head limit: the edge's 431.
    "head too large": (b"X-Pad: " + b"a" * 70000 + b"\r\n\r\n", 431, None),
    # A chunk size that is not one: the parser's 400.
    "unreadable": (b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "BadRequestException"),
}


@pytest.mark.parametrize("case", list(REFUSED_BEFORE_READ))
def test_a_request_refused_before_it_is_read_gets_a_cti_error(
    world: World, tokens: dict[str, Any], case: str
) -> None:
    """Refusals made before the request is read whole are in the CTI API's own JSON 1.0
    form, as every other CTI error (the JS SDK's JSON protocol reads ``__type``)."""
    extra, status, code = REFUSED_BEFORE_READ[case]
    answer = raw_http.exchange(world.server, [_head(world, tokens, extra)])
    assert answer.status == status, answer.data[:300]
    assert answer.header("content-type") == "application/x-amz-json-1.0"
    body = json.loads(answer.body)
    assert body["__type"] == answer.header("x-amzn-errortype")
    assert code is None or body["__type"] == code
    assert body["message"]
    assert answer.header("x-amzn-requestid")
