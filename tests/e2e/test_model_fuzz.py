"""Every registered operation, fuzzed from its own botocore input shape, on SQLite and on
PostgreSQL: whatever the input, the answer is a success or an error botocore parses as the
service's, with a code the operation's model or the protocol's common errors allow and a status
under 500; the server logs no error; and what the server held before is still there, unchanged.

The CI budget is fixed and derandomized (``CONNECTFED_FUZZ_EXAMPLES`` examples per operation,
default 12). For hunting: ``CONNECTFED_FUZZ_EXAMPLES=500 CONNECTFED_FUZZ_RANDOM=1 pytest
tests/e2e/test_model_fuzz.py`` (random seeds; hypothesis prints the seed of a failure)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings

import connectfed.api  # noqa: F401  (registers every operation)
from connectfed.wire.registry import REGISTRY
from tests.support.backends import BACKENDS, logged_errors, server_on
from tests.support.fuzz_shapes import (
    Overlay,
    Pool,
    allowed_codes,
    operation_input,
    split_for_botocore,
)
from tests.support.saml_world import build_saml_world
from tests.support.server import ACCOUNT_ID, Server

EXAMPLES = int(os.environ.get("CONNECTFED_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("CONNECTFED_FUZZ_RANDOM", "") not in ("", "0")
SERVICES = ("connect", "iam", "sts", "cloudtrail")
DENY_S3 = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}'


def _order(op: tuple[str, str]) -> tuple[int, str, str]:
    # Deleting comes last, so the other operations meet the world whole.
    return (op[1].startswith("Delete"), op[0], op[1])


OPERATIONS = sorted((op for op in REGISTRY.all() if op[0] in SERVICES), key=_order)


class Target:
    """A server, the values it holds, and clients that send whatever they are given."""

    def __init__(self, server: Server, pool: Pool) -> None:
        self.server = server
        self.pool = pool
        self.overlay: Overlay | None = None
        self.clients: dict[str, Any] = {}
        for service in SERVICES:
            client = server.client(
                service,
                parameter_validation=False,
                read_timeout=60,
                connect_timeout=10,
            )
            client.meta.events.register("before-sign", self._before_sign)
            self.clients[service] = client
        self.seen = 0  # server output lines already checked

    def _before_sign(self, request: Any, **_: Any) -> None:
        (self.overlay or Overlay()).apply(request)

    def call(self, service: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        client = self.clients[service]
        operation = client.meta.service_model.operation_model(name)

        def serialisable(candidate: dict[str, Any]) -> bool:
            try:
                client._serializer.serialize_to_request(candidate, operation)
            except Exception:
                return False
            return True

        kept, self.overlay = split_for_botocore(operation, params, serialisable)
        try:
            return dict(client._make_api_call(name, kept))
        finally:
            self.overlay = None

    def new_errors(self) -> list[str]:
        lines = self.server.output[self.seen :]
        self.seen += len(lines)
        return logged_errors(lines)


def _forged_token(instance_id: str, after: str) -> str:
    """A page token as the server makes them (base64 JSON, public), for ListUsers of
    ``instance_id``, resuming after ``after`` (tokens reach the store's queries)."""
    listing = json.dumps(["connect", "ListUsers", {"InstanceId": instance_id}], sort_keys=True)
    document = {"after": after, "for": hashlib.sha256(listing.encode()).hexdigest()[:16]}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def _pool(server: Server) -> Pool:
    saml = build_saml_world(server, "fuzz")
    world = saml.world
    connect = server.client("connect")
    iam = server.client("iam")
    instance = world.instance_id
    users = connect.list_users(InstanceId=instance)["UserSummaryList"]
    basic = connect.list_queues(InstanceId=instance)["QueueSummaryList"][0]["Id"]
    hours = connect.describe_queue(InstanceId=instance, QueueId=basic)["Queue"][
        "HoursOfOperationId"
    ]
    queue = connect.create_queue(InstanceId=instance, Name="fuzz-queue", HoursOfOperationId=hours)[
        "QueueId"
    ]
    status = connect.create_agent_status(InstanceId=instance, Name="fuzz", State="ENABLED")
    iam.create_user(UserName="fuzz-user")
    key = iam.create_access_key(UserName="fuzz-user")["AccessKey"]["AccessKeyId"]
    instance_arn = f"arn:aws:connect:{server.region}:{ACCOUNT_ID}:instance/{instance}"
    return Pool(
        {
            "InstanceId": [instance],
            "UserId": [u["Id"] for u in users],
            "QueueId": [queue, basic],
            "HoursOfOperationId": [hours],
            "AgentStatusId": [status["AgentStatusId"]],
            "RoutingProfileId": [world.routing_profile],
            "SecurityProfileIds": [world.security_profile],
            "SecurityProfileId": [world.security_profile],
            "resourceArn": [instance_arn, status["AgentStatusARN"]],
            "ResourceArn": [instance_arn],
            "Username": ["agent1", "fuzz-new"],
            "UserName": ["fuzz-user", f"caller-{'fuzz'}"],
            "RoleName": [world.role_arn.rsplit("/", 1)[1]],
            "RoleArn": [world.role_arn],
            "RoleSessionName": ["agent1"],
            "PrincipalArn": [saml.provider_arn],
            "SAMLProviderArn": [saml.provider_arn],
            "PolicySourceArn": [world.role_arn],
            "AccessKeyId": [key],
            "PolicyName": ["p", "assume"],
            "PolicyDocument": [DENY_S3],
            "AssumeRolePolicyDocument": [DENY_S3],
            "SAMLMetadataDocument": [saml.idp.metadata()],
            "SAMLAssertion": [saml.assertion()],
            "InstanceAlias": ["fuzz-alias"],
            "IdentityManagementType": ["SAML"],
            "AttributeKey": ["Username", "EventName", "ResourceName"],
            "AttributeValue": ["agent1", "CreateUser"],
            "NextToken": [_forged_token(instance, after) for after in ("agent1", "\x00", "\ud800")],
            "Marker": [_forged_token(instance, "\x00")],
            "Key": ["team"],
            "Value": ["blue"],
        }
    )


def _canary(server: Server) -> dict[str, Any]:
    """What the fuzz must leave as it found it: an instance, user and queue whose ids it never
    draws, an IAM user with tags and a policy."""
    connect = server.client("connect")
    iam = server.client("iam")
    instance = connect.create_instance(
        IdentityManagementType="SAML",
        InstanceAlias="fuzz-canary",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    profiles = connect.list_security_profiles(InstanceId=instance)["SecurityProfileSummaryList"]
    routing = connect.list_routing_profiles(InstanceId=instance)["RoutingProfileSummaryList"]
    user = connect.create_user(
        InstanceId=instance,
        Username="canary.agent",
        IdentityInfo={"FirstName": "Zoë", "LastName": "O'Brien"},
        PhoneConfig={"PhoneType": "SOFT_PHONE"},
        SecurityProfileIds=[profiles[0]["Id"]],
        RoutingProfileId=routing[0]["Id"],
        Tags={"team": "blue"},
    )["UserId"]
    iam.create_user(UserName="canary", Tags=[{"Key": "k", "Value": "v"}])
    iam.put_user_policy(UserName="canary", PolicyName="c", PolicyDocument=DENY_S3)
    return {"instance": instance, "user": user}


def _snapshot(server: Server, canary: dict[str, Any]) -> Any:
    connect = server.client("connect")
    iam = server.client("iam")
    user = connect.describe_user(InstanceId=canary["instance"], UserId=canary["user"])["User"]
    user.pop("LastModifiedTime", None)
    return (
        connect.describe_instance(InstanceId=canary["instance"])["Instance"],
        user,
        iam.get_user(UserName="canary")["User"],
        iam.list_user_tags(UserName="canary")["Tags"],
        iam.get_user_policy(UserName="canary", PolicyName="c")["PolicyDocument"],
    )


@pytest.fixture(scope="module", params=BACKENDS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    with server_on(request.param, tmp_path_factory.mktemp("fuzz"), "--audit-reads") as server:
        canary = _canary(server)
        before = _snapshot(server, canary)
        fuzzed = Target(server, _pool(server))
        yield fuzzed
        assert _snapshot(server, canary) == before
        # Everything stored is still readable (a value taken but not answerable is caught
        # here, by the listings that answer it).
        for listing in ("list_users", "list_roles", "list_saml_providers"):
            getattr(server.client("iam"), listing)()
        connect = server.client("connect")
        for instance in connect.list_instances()["InstanceSummaryList"]:
            connect.list_users(InstanceId=instance["Id"])
            connect.list_agent_statuses(InstanceId=instance["Id"])
            connect.list_queues(InstanceId=instance["Id"])
        server.client("cloudtrail").lookup_events(MaxResults=50)
        time.sleep(0.3)
        assert fuzzed.new_errors() == []


@pytest.mark.parametrize(("service", "name"), OPERATIONS, ids=[f"{s}.{n}" for s, n in OPERATIONS])
def test_any_input_gets_a_modelled_answer(target: Target, service: str, name: str) -> None:
    operation = target.clients[service].meta.service_model.operation_model(name)
    allowed = allowed_codes(operation)
    target.new_errors()

    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(params=operation_input(operation, target.pool))
    def fuzz(params: dict[str, Any]) -> None:
        try:
            target.call(service, name, params)
        except ClientError as error:
            code = error.response["Error"].get("Code")
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status < 500 and code in allowed, (status, code, error.response["Error"])
        assert target.new_errors() == []

    fuzz()
    # The audit trail's writer took this operation's events (a lookup flushes it first).
    target.clients["cloudtrail"].lookup_events(MaxResults=1)
    time.sleep(0.05)
    assert target.new_errors() == []
