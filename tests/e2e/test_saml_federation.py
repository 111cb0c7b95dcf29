"""SAML federation through the API: providers, AssumeRoleWithSAML, then GetFederationToken."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from connectfed.saml.testidp import SigningKey
from tests.support.saml_world import SIGNIN, SamlWorld, build_saml_world, saml_trust
from tests.support.server import ACCOUNT_ID, Server, start_server

_names = itertools.count()


@pytest.fixture
def saml(server: Server) -> SamlWorld:
    return build_saml_world(server, f"s{next(_names)}")


def test_assume_role_with_saml_then_get_federation_token(saml: SamlWorld) -> None:
    result = saml.assume(saml.assertion("agent1"))
    role_name = saml.role_arn.rsplit("/", 1)[1]
    assert result["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/agent1"
    )
    assert result["Issuer"] == saml.idp.entity_id
    assert result["Audience"] == SIGNIN
    assert result["Subject"] == "agent@example.com" and result["SubjectType"] == "persistent"
    provider_name = saml.provider_arn.rsplit("/", 1)[1]
    expected_qualifier = base64.b64encode(
        hashlib.sha1(  # noqa: S324
            f"{saml.idp.entity_id}{ACCOUNT_ID}/{provider_name}".encode()
        ).digest()
    ).decode()
    assert result["NameQualifier"] == expected_qualifier
    c = result["Credentials"]
    connect = saml.server.client(
        "connect", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]
    )
    token = connect.get_federation_token(InstanceId=saml.world.instance_id)
    assert token["Credentials"]["AccessToken"].startswith("cfa_")


def test_saml_providers_crud_and_metadata_validation(server: Server) -> None:
    iam = server.client("iam")
    from connectfed.saml.testidp import TestIdp

    idp = TestIdp(entity_id="https://crud.example.test")
    arn = iam.create_saml_provider(SAMLMetadataDocument=idp.metadata(), Name="Crud")[
        "SAMLProviderArn"
    ]
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == idp.metadata()
    assert arn in [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]]
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_saml_provider(SAMLMetadataDocument=idp.metadata(), Name="Crud")
    bad = "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'/>" + " " * 1000
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.create_saml_provider(SAMLMetadataDocument=bad, Name="Bad")
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.create_saml_provider(
            SAMLMetadataDocument='<!DOCTYPE x [<!ENTITY e "x">]>' + idp.metadata(), Name="Dtd"
        )
    iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_saml_provider(SAMLProviderArn=arn)


def test_certificate_rollover(saml: SamlWorld) -> None:
    new_key = SigningKey.generate("rolled")
    iam = saml.server.client("iam")
    iam.update_saml_provider(
        SAMLProviderArn=saml.provider_arn,
        SAMLMetadataDocument=saml.idp.metadata([saml.idp.keys[0], new_key]),
    )
    assert saml.assume(saml.assertion(signing_key=new_key))
    assert saml.assume(saml.assertion(signing_key=saml.idp.keys[0]))
    iam.update_saml_provider(
        SAMLProviderArn=saml.provider_arn, SAMLMetadataDocument=saml.idp.metadata([new_key])
    )
    with pytest.raises(ClientError) as caught:
        saml.assume(saml.assertion(signing_key=saml.idp.keys[0]))
    assert caught.value.response["Error"]["Code"] == "InvalidIdentityToken"


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    "knobs,code,fragment",
    [
        ({"sign": "none"}, "InvalidIdentityToken", "signature"),
        ({"signing_key": SigningKey.generate("stranger")}, "InvalidIdentityToken", "signature"),
        ({"issuer": "https://evil.example"}, "InvalidIdentityToken", "Issuer"),
        ({"audience": "https://someone-else.example"}, "InvalidIdentityToken", "Audience"),
        (
            {"recipient": "https://signin.aws.amazon.com/saml/evil"},
            "InvalidIdentityToken",
            "not this endpoint",
        ),
        (
            {"recipient": SIGNIN, "destination": "https://evil.example/saml", "sign": "response"},
            "InvalidIdentityToken",
            "Destination",
        ),
        ({"now": NOW - timedelta(hours=2)}, "ExpiredTokenException", "expired"),
        ({"now": NOW + timedelta(hours=2)}, "InvalidIdentityToken", "not yet valid"),
        ({"omit_recipient": True}, "InvalidIdentityToken", "Recipient"),
        ({"confirmation_not_before": NOW}, "InvalidIdentityToken", "NotBefore"),
        ({"session_name": None}, "InvalidIdentityToken", "RoleSessionName is required"),
        ({"session_name": "a b"}, "InvalidIdentityToken", "must match"),
        ({"session_name": "x"}, "InvalidIdentityToken", "must match"),
        (
            {"roles": [("arn:aws:iam::123456789012:role/Other", "arn:aws:iam::1:saml-provider/x")]},
            "AccessDenied",
            "Not authorized",
        ),
        (
            {
                "extra_attributes": {
                    "https://aws.amazon.com/SAML/Attributes/SourceIdentity": ["aws:nope"]
                }
            },
            "InvalidIdentityToken",
            "SourceIdentity",
        ),
    ],
)
def test_rejections(saml: SamlWorld, knobs: dict, code: str, fragment: str) -> None:
    with pytest.raises(ClientError) as caught:
        saml.assume(saml.assertion(**knobs))
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    assert fragment.lower() in error["Message"].lower(), error


def test_role_must_trust_the_provider(saml: SamlWorld) -> None:
    iam = saml.server.client("iam")
    role = saml.role_arn.rsplit("/", 1)[1]
    iam.update_assume_role_policy(
        RoleName=role,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": saml.provider_arn},
                        "Action": "sts:AssumeRoleWithSAML",
                        "Condition": {
                            "StringEquals": {"SAML:aud": "https://elsewhere.example/saml"}
                        },
                    }
                ],
            }
        ),
    )
    with pytest.raises(ClientError) as caught:
        saml.assume(saml.assertion())
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_role_changes_hold_for_the_very_next_assumption(saml: SamlWorld) -> None:
    """Roles are cached for AssumeRoleWithSAML (issue 9); a change through IAM on this server
    (trust policy, deletion, creation) applies to the next call, not once the cache expires."""
    iam = saml.server.client("iam")
    name = f"cached-{next(_names)}"
    trust = saml_trust(saml.provider_arn)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]

    def assume() -> dict:
        return saml.assume(saml.assertion(roles=[(arn, saml.provider_arn)]), role_arn=arn)

    def refused() -> None:
        with pytest.raises(ClientError) as caught:
            assume()
        assert caught.value.response["Error"]["Code"] == "AccessDenied"

    assume()  # the role is read (and cached)
    elsewhere = saml_trust(saml.provider_arn, audience="https://elsewhere.example/saml")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=elsewhere)
    refused()
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
    assume()
    iam.delete_role(RoleName=name)
    refused()  # the role is remembered as absent
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    assume()
    iam.delete_role(RoleName=name)  # the session's server lists its roles on one page


def test_duration_bounds(saml: SamlWorld) -> None:
    with pytest.raises(ClientError) as caught:
        saml.assume(saml.assertion(), DurationSeconds=7200)
    assert "MaxSessionDuration" in caught.value.response["Error"]["Message"]
    capped = saml.assume(
        saml.assertion(session_not_on_or_after=datetime.now(UTC) + timedelta(minutes=20))
    )
    lifetime = capped["Credentials"]["Expiration"] - datetime.now(UTC)
    assert lifetime <= timedelta(minutes=20, seconds=5)


def test_comment_in_name_id_and_session_name_is_full_signed_text(saml: SamlWorld) -> None:
    saml.world.add_agent("agent1.evil")
    result = saml.assume(
        saml.assertion("agent1<!---->.evil", name_id="admin@example.com<!---->.evil.test")
    )
    assert result["Subject"] == "admin@example.com.evil.test"
    assert result["AssumedRoleUser"]["Arn"].endswith("/agent1.evil")


def test_reuse_allowed_by_default_single_use_by_setting(saml: SamlWorld, tmp_path: Path) -> None:
    assertion = saml.assertion()
    assert saml.assume(assertion) and saml.assume(assertion)
    strict = start_server(tmp_path, "--throttle-rate", "0", "--saml-single-use")
    try:
        world = build_saml_world(strict, "single")
        once = world.assertion()
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def attempt() -> None:
            barrier.wait()
            try:
                world.assume(once)
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        threads = [threading.Thread(target=attempt) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["InvalidIdentityToken"] * 3 + ["ok"]
    finally:
        strict.stop()


def test_malformed_base64_and_unknown_provider(saml: SamlWorld) -> None:
    with pytest.raises(ClientError) as caught:
        saml.assume("!!!!not-base64!!!!")
    assert caught.value.response["Error"]["Code"] == "InvalidIdentityToken"
    with pytest.raises(ClientError) as caught:
        saml.assume(saml.assertion(), provider_arn=f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/no")
    assert caught.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_aws_cli_flow(saml: SamlWorld, tmp_path: Path) -> None:
    from tests.support.saml_world import saml_trust
    from tests.support.server import ROOT_KEY, ROOT_SECRET

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "c"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "c"))
    common = ["--endpoint-url", saml.server.url, "--region", "us-east-1"]

    def aws(*args: str, extra: dict[str, str] | None = None) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "awscli", *args, *common],
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    root = {"AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET}
    (tmp_path / "md.xml").write_text(saml.idp.metadata())
    provider = aws(
        "iam",
        "create-saml-provider",
        "--name",
        "cli-idp",
        "--saml-metadata-document",
        f"file://{tmp_path / 'md.xml'}",
        extra=root,
    )["SAMLProviderArn"]
    aws(
        "iam",
        "update-assume-role-policy",
        "--role-name",
        saml.role_arn.rsplit("/", 1)[1],
        "--policy-document",
        saml_trust(provider),
        extra=root,
    )
    assertion = saml.assertion("agent2", roles=[(saml.role_arn, provider)])
    creds = aws(
        "sts",
        "assume-role-with-saml",
        "--role-arn",
        saml.role_arn,
        "--principal-arn",
        provider,
        "--saml-assertion",
        assertion,
        "--no-sign-request",
    )["Credentials"]
    federated = aws(
        "connect",
        "get-federation-token",
        "--instance-id",
        saml.world.instance_id,
        extra={
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        },
    )
    assert federated["Credentials"]["AccessToken"].startswith("cfa_")


def test_oversized_assertion_is_a_validation_error_before_parsing(saml: SamlWorld) -> None:
    import http.client
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(saml.server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        "POST",
        "/",
        body=urlencode(
            {
                "Action": "AssumeRoleWithSAML",
                "Version": "2011-06-15",
                "RoleArn": saml.role_arn,
                "PrincipalArn": saml.provider_arn,
                "SAMLAssertion": "A" * 100_001,
            }
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    body = response.read()
    assert response.status == 400
    assert b"<Code>ValidationError</Code>" in body
    assert b"less than or equal to 100000" in body


def test_regional_saml_endpoint_accepts_browser_posts(saml: SamlWorld) -> None:
    import http.client
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(saml.server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    regional = "https://us-east-1.signin.aws.amazon.com/saml"
    iam = saml.server.client("iam")
    from tests.support.saml_world import saml_trust

    iam.update_assume_role_policy(
        RoleName=saml.role_arn.rsplit("/", 1)[1],
        PolicyDocument=saml_trust(saml.provider_arn, regional),
    )
    conn.request(
        "POST",
        "/us-east-1/saml",
        body=urlencode({"SAMLResponse": saml.assertion(recipient=regional)}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    assert response.status == 200, response.read()
    assert b"Signed in" in response.read()


def _trust_on(saml: SamlWorld, operator: str, key: str, value: str | list[str]) -> None:
    iam = saml.server.client("iam")
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": saml.provider_arn},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {operator: {key: value}},
    }
    iam.update_assume_role_policy(
        RoleName=saml.role_arn.rsplit("/", 1)[1],
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


EDU_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
EDU_ORG_LEGAL_NAME = "urn:oid:1.3.6.1.4.1.5923.1.2.1.4"
COMMON_NAME = "urn:oid:2.5.4.3"


@pytest.mark.parametrize(
    "operator,key,wanted,wrong",
    [
        ("StringEquals", "saml:sub", "agent@example.com", "other@example.com"),
        ("StringEquals", "saml:sub_type", "persistent", "transient"),
        ("StringLike", "saml:iss", "https://idp.example.test/*", "https://evil.example/*"),
        # saml:doc: the provider as <account>/<provider name> (not read from the assertion)
        ("StringEquals", "saml:doc", "{account}/{provider}", "{account}/other"),
        ("ForAnyValue:StringEquals", "saml:edupersonaffiliation", ["staff"], ["student"]),
        ("ForAllValues:StringLike", "saml:edupersonaffiliation", ["staff", "member"], ["staff"]),
        ("StringEquals", "saml:eduorglegalname", "Example University", "Elsewhere"),
        ("StringEquals", "saml:cn", "Agent One", "Agent Two"),
    ],
)
def test_trust_policies_see_the_documented_saml_keys(
    saml: SamlWorld, operator: str, key: str, wanted: Any, wrong: Any
) -> None:
    """IAM User Guide, "Available keys for SAML-based AWS STS federation": saml:doc and the
    eduPerson/eduOrg/cn attributes (named by their OIDs, lists where several values may come)
    are trust-policy keys, as saml:aud/iss/sub/sub_type are."""
    provider = saml.provider_arn.rsplit("/", 1)[1]

    def filled(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(account=ACCOUNT_ID, provider=provider)
        return value

    extra = {
        EDU_AFFILIATION: ["staff", "member"],
        EDU_ORG_LEGAL_NAME: ["Example University"],
        COMMON_NAME: ["Agent One"],
    }
    _trust_on(saml, operator, key, filled(wanted))
    assert saml.assume(saml.assertion(extra_attributes=extra))["Subject"] == "agent@example.com"
    _trust_on(saml, operator, key, filled(wrong))
    with pytest.raises(ClientError) as caught:
        saml.assume(saml.assertion(extra_attributes=extra))
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_a_saml_sessions_permission_policies_see_its_subject(saml: SamlWorld) -> None:
    """IAM User Guide, "Available keys for SAML-based AWS STS federation": a SAML session's
    requests carry saml:sub, saml:sub_type and saml:namequalifier for its role's permission
    policies (here: only the IdP's agent@example.com may federate into Connect)."""
    iam = saml.server.client("iam")
    role_name = saml.role_arn.rsplit("/", 1)[1]
    provider_name = saml.provider_arn.rsplit("/", 1)[1]
    qualifier = base64.b64encode(
        hashlib.sha1(  # noqa: S324
            f"{saml.idp.entity_id}{ACCOUNT_ID}/{provider_name}".encode()
        ).digest()
    ).decode()
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "connect:GetFederationToken",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "saml:sub": "agent@example.com",
                                "saml:sub_type": "persistent",
                                "saml:namequalifier": qualifier,
                            }
                        },
                    }
                ],
            }
        ),
    )

    def federates(name_id: str) -> bool:
        c = saml.assume(saml.assertion("agent1", name_id=name_id))["Credentials"]
        connect = saml.server.client(
            "connect", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]
        )
        try:
            connect.get_federation_token(InstanceId=saml.world.instance_id)
            return True
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDeniedException"
            return False

    assert federates("agent@example.com")
    assert not federates("intruder@example.com")


@pytest.mark.parametrize(
    "name_id_format,subject_type",
    [
        ("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "persistent"),
        ("urn:oasis:names:tc:SAML:2.0:nameid-format:transient", "transient"),
        ("urn:oasis:names:tc:SAML:2.0:nameid-format:entity", "entity"),
        (
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        ),
    ],
)
def test_subject_type_drops_only_the_saml2_name_id_format_prefix(
    saml: SamlWorld, name_id_format: str, subject_type: str
) -> None:
    """STS API reference, AssumeRoleWithSAML's SubjectType: a format with the prefix
    urn:oasis:names:tc:SAML:2.0:nameid-format loses it; any other is returned as it is; the
    trust policy's saml:sub_type is the same value."""
    _trust_on(saml, "StringEquals", "saml:sub_type", subject_type)
    result = saml.assume(saml.assertion(name_id_format=name_id_format))
    assert result["SubjectType"] == subject_type
