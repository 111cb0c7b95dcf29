"""Every CTI operation of the model shipped with Streams, fuzzed from its own input shape (the
generators of tests/support/fuzz_shapes.py), on SQLite and on PostgreSQL, as a real agent: its
token comes through the whole federation flow (a SAML assertion, AssumeRoleWithSAML,
GetFederationToken, the SignInUrl, ``/auth/authorize``, as the CCP gets it). Whatever the
input, the answer is a success or an error as the JavaScript SDK's JSON 1.0 protocol reads it
(``x-amzn-ErrorType`` and ``{"__type", "message"}``), with a code the CTI API answers and its
status, never a 5xx; the server logs no error; the agent's state and configuration stay
readable; another agent is left as it was.

The CI budget is fixed and derandomized (``CONNECTFED_FUZZ_EXAMPLES`` examples per operation,
default 50). For hunting: ``CONNECTFED_FUZZ_EXAMPLES=500 CONNECTFED_FUZZ_RANDOM=1 pytest
tests/e2e/test_cti_fuzz.py`` (random seeds; hypothesis prints the seed of a failure)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectfed.wire import cti_model
from tests.support import cti
from tests.support.backends import BACKENDS, logged_errors, server_on
from tests.support.browser import Browser
from tests.support.fuzz_shapes import Pool, json_body, mutation, operation_input
from tests.support.saml_world import SamlWorld, build_saml_world
from tests.support.server import Server

EXAMPLES = int(os.environ.get("CONNECTFED_FUZZ_EXAMPLES", "50"))
RANDOM = os.environ.get("CONNECTFED_FUZZ_RANDOM", "") not in ("", "0")
MODEL = cti_model.load(cti.STREAMS_DIR)
OPERATIONS = sorted(MODEL.operation_names)
# What the CTI API answers (docs/compatibility.md, "CTI agent API and the CCP"), and with which
# status; the model ships no error shapes.
STATUSES = {
    "UnauthorizedException": 401,
    "AccessDeniedException": 403,
    "ValidationException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 400,
    "InvalidStateException": 400,
    "InvalidConfigurationException": 400,
    "PaginationException": 400,
    "RefreshTokenExpiredException": 401,
    "RequestEntityTooLargeException": 413,
}
WAIT_MS = 200  # a long poll's timeout is cut to this: the fuzz is about input, not waiting


@dataclass
class Agent:
    """An agent signed in as the CCP signs in, and what the fuzz must leave readable."""

    server: Server
    saml: SamlWorld
    instance_id: str
    user_id: str
    access_token: str
    seen: int = 0  # server output lines already checked

    @property
    def api(self) -> str:
        return f"/connect/{self.instance_id}/api"

    def call(self, operation: str, body: Any = None, **kw: Any) -> cti.CtiAnswer:
        kw.setdefault("token", self.access_token)
        return cti.call(self.server.url, self.api, operation, body, **kw)

    def new_errors(self) -> list[str]:
        lines = self.server.output[self.seen :]
        self.seen += len(lines)
        return logged_errors(lines)


def _federate(saml: SamlWorld, session_name: str) -> dict[str, Any]:
    """GetFederationToken through a SAML session, as a federated agent's desktop calls it."""
    creds = saml.assume(saml.assertion(session_name))["Credentials"]
    connect = saml.server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    return dict(connect.get_federation_token(InstanceId=saml.world.instance_id))


def _sign_in(saml: SamlWorld, session_name: str) -> str:
    """The access token the CCP gets: the SignInUrl opened, then ``/auth/authorize``."""
    browser = Browser(saml.server.url)
    assert browser.get(_federate(saml, session_name)["SignInUrl"]).status == 303
    reply = browser.get(f"/connect/{saml.world.instance_id}/auth/authorize")
    assert reply.status == 200, reply.body
    return str(reply.json()["accessToken"])


# Input every operation takes (its required members), for those not seeded from the agent.
ANY_VALID: dict[str, Any] = {
    "contactId": "c-1",
    "connectionId": "k-1",
    "endpoint": {"type": "TELEPHONE_NUMBER", "phoneNumber": "+15555550100"},
    "name": "n",
    "digits": "1",
    "targetMonitorMode": "SILENT_MONITOR",
    "transportType": "web_socket",
    "logEvents": [{"timestamp": 1.7e9, "component": "ccp", "message": "hello"}],
    "softphoneStreamStatistics": [
        {"timestamp": 1.7e9, "softphoneStreamType": "audio_input", "packetCount": 1}
    ],
    "report": {"callStartTime": 1.7e9, "gumTimeMillis": 1, "handshakeFailure": False},
    "maxResults": 1,
    "nextToken": "cfpage.1",
}


def _valid(agent: Agent, pool: Pool) -> dict[str, dict[str, Any]]:
    """Per operation, input it takes (what the mutations start from)."""
    configuration = agent.call("GetAgentConfiguration").body["configuration"]
    states = agent.call("GetAgentStates").body["states"]
    seeded = {
        "GetAgentSnapshot": {"nextToken": pool.get("nextToken")[0], "timeout": 0},
        "UpdateAgentConfiguration": {"configuration": configuration},
        "PutAgentState": {"state": states[-1]},
        "GetRoutingProfileQueues": {
            "routingProfileARN": pool.get("routingProfileARN")[0],
            "maxResults": 2,
        },
        "GetEndpoints": {"queueARNs": pool.get("queueARNs")},
        "GetNewAuthToken": {"refreshToken": pool.get("refreshToken")[0]},
    }
    valid: dict[str, dict[str, Any]] = {}
    for name in OPERATIONS:
        members = MODEL.operation_model(name).input_shape.members
        valid[name] = seeded.get(name) or {k: v for k, v in ANY_VALID.items() if k in members}
    return valid


def _pool(agent: Agent, other_user: str) -> Pool:
    snapshot = agent.call("GetAgentSnapshot").body
    configuration = agent.call("GetAgentConfiguration").body["configuration"]
    states = agent.call("GetAgentStates").body["states"]
    profile = configuration["routingProfile"]["routingProfileARN"]
    queues = agent.call("GetRoutingProfileQueues", {"routingProfileARN": profile}).body["queues"]
    # A refresh token of a family of its own: spending it (and reusing it, which revokes its
    # family) leaves the agent's session alone.
    spare = _federate(agent.saml, "agent1")["Credentials"]["RefreshToken"]
    version = snapshot["nextToken"].split(".")[1]
    return Pool(
        {
            "authToken": [agent.access_token],
            "agentARN": [configuration["agentARN"]],
            "agentStateARN": [s["agentStateARN"] for s in states],
            "name": [s["name"] for s in states] + [configuration["name"]],
            "type": ["routable", "not_routable", "offline"],
            "routingProfileARN": [profile],
            "queueARN": [q["queueARN"] for q in queues],
            "queueARNs": [q["queueARN"] for q in queues],
            "nextToken": [
                snapshot["nextToken"],
                f"cfsnap.{version}",
                f"cfsnap.{version}.{other_user}",
                "cfsnap.999999999999999999",
                "cfpage.1",
                "cfpage.999999999",
            ],
            "refreshToken": [spare],
            "extension": ["+15555550100", ""],
            "username": [configuration["username"]],
            "contactId": ["c-1"],
            "transportType": ["web_socket", "softphone", "chat_token", "agent_discovery"],
            "targetMonitorMode": ["SILENT_MONITOR", "BARGE"],
            "LANGUAGE": ["en_US"],
        }
    )


def _canary(server: Server, instance_id: str, user_id: str) -> Any:
    user = server.client("connect").describe_user(InstanceId=instance_id, UserId=user_id)["User"]
    user.pop("LastModifiedTime", None)
    return user


def _assert_agent_readable(agent: Agent) -> None:
    snapshot = agent.call("GetAgentSnapshot")
    assert snapshot.status == 200, snapshot.body
    assert snapshot.body["snapshot"]["state"]["name"]
    configuration = agent.call("GetAgentConfiguration")
    assert configuration.status == 200, configuration.body
    assert configuration.body["configuration"]["username"] == "agent1"
    connect = agent.server.client("connect")
    connect.describe_user(InstanceId=agent.instance_id, UserId=agent.user_id)
    connect.list_users(InstanceId=agent.instance_id)


@dataclass
class Target:
    agent: Agent
    pool: Pool
    valid: dict[str, dict[str, Any]]


@pytest.fixture(scope="module", params=BACKENDS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    with server_on(request.param, tmp_path_factory.mktemp("cti-fuzz")) as server:
        saml = build_saml_world(server, "ctifuzz")
        instance_id = saml.world.instance_id
        users = {
            u["Username"]: u["Id"]
            for u in server.client("connect").list_users(InstanceId=instance_id)["UserSummaryList"]
        }
        agent = Agent(server, saml, instance_id, users["agent1"], _sign_in(saml, "agent1"))
        before = _canary(server, instance_id, users["agent2"])
        pool = _pool(agent, users["agent2"])
        yield Target(agent, pool, _valid(agent, pool))
        _assert_agent_readable(agent)
        assert _canary(server, instance_id, users["agent2"]) == before
        time.sleep(0.3)
        assert agent.new_errors() == []


def _bounded(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with a long poll's wait cut to :data:`WAIT_MS`: a value past what a long can
    hold is kept, with no ``nextToken`` to wait on."""
    timeout = params.get("timeout")
    if operation != "GetAgentSnapshot" or not isinstance(timeout, int | float):
        return params
    if isinstance(timeout, bool) or not math.isfinite(timeout) or timeout <= WAIT_MS:
        return params
    if isinstance(timeout, int) and timeout > 2**63 - 1:
        return {k: v for k, v in params.items() if k != "nextToken"}
    return {**params, "timeout": WAIT_MS}


def _authenticated(params: dict[str, Any], how: str, token: str) -> tuple[dict[str, Any], bool]:
    """``params`` and whether the header carries the token: ``drawn`` keeps the drawn
    ``authentication`` (another token there is refused), ``header`` drops its token, ``body``
    sends the token only there."""
    authentication = params.get("authentication")
    if how == "drawn" or not isinstance(authentication, dict):
        return params, True
    kept = {k: v for k, v in authentication.items() if k != "authToken"}
    if how == "body":
        kept["authToken"] = token
    return {**params, "authentication": kept}, how != "body"


def _assert_answer_shape(answer: cti.CtiAnswer) -> None:
    assert answer.status < 500, (answer.status, answer.body)
    assert answer.headers.get("x-amzn-requestid")
    assert answer.headers.get("content-type") == "application/x-amz-json-1.0"
    if answer.status < 300:
        assert answer.status == 200 and isinstance(answer.body, dict), answer.body
        return
    assert isinstance(answer.body, dict), answer.body
    code = answer.body.get("__type")
    assert code == answer.headers.get("x-amzn-errortype"), (answer.headers, answer.body)
    assert code in STATUSES and answer.status == STATUSES[code], (answer.status, answer.body)
    assert isinstance(answer.body.get("message"), str) and answer.body["message"], answer.body


@pytest.mark.parametrize("name", OPERATIONS)
def test_any_input_gets_a_typed_cti_answer(target: Target, name: str) -> None:
    agent = target.agent
    operation = MODEL.operation_model(name)
    agent.new_errors()
    drawn = operation_input(operation, target.pool)
    if target.valid[name]:  # half of the examples: one member of a valid input changed
        drawn = st.one_of(drawn, mutation(operation, target.valid[name], target.pool))

    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        params=drawn,
        how=st.sampled_from(["header", "header", "body", "drawn"]),
    )
    def fuzz(params: dict[str, Any], how: str) -> None:
        sent, in_header = _authenticated(_bounded(name, params), how, agent.access_token)
        answer = agent.call(
            name, token=agent.access_token if in_header else None, raw=json_body(sent)
        )
        _assert_answer_shape(answer)
        assert agent.new_errors() == []

    fuzz()
    _assert_agent_readable(agent)
    assert agent.new_errors() == []
