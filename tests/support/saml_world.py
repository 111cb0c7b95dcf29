"""A SAML federation world built through the real IAM API with the test IdP."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from connectfed.saml.testidp import TestIdp, encode
from tests.support.server import ACCOUNT_ID, Server
from tests.support.world import World, build_world

SIGNIN = "https://signin.aws.amazon.com/saml"


@dataclass
class SamlWorld:
    world: World
    idp: TestIdp
    provider_arn: str
    role_arn: str

    @property
    def server(self) -> Server:
        return self.world.server

    def assertion(self, session_name: str | None = "agent1", **knobs: Any) -> str:
        knobs.setdefault("roles", [(self.role_arn, self.provider_arn)])
        knobs.setdefault("recipient", SIGNIN)
        return encode(self.idp.response(session_name=session_name, **knobs))

    def assume(self, assertion: str, **kw: Any) -> dict[str, Any]:
        sts = self.server.client("sts")
        return dict(
            sts.assume_role_with_saml(
                RoleArn=kw.pop("role_arn", self.role_arn),
                PrincipalArn=kw.pop("provider_arn", self.provider_arn),
                SAMLAssertion=assertion,
                **kw,
            )
        )


def saml_trust(provider_arn: str, audience: str = SIGNIN) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithSAML",
                    "Condition": {"StringEquals": {"SAML:aud": audience}},
                }
            ],
        }
    )


def build_saml_world(server: Server, name: str) -> SamlWorld:
    world = build_world(server, name)
    idp = TestIdp(entity_id=f"https://idp.example.test/{name}")
    iam = server.client("iam")
    provider_arn = iam.create_saml_provider(
        SAMLMetadataDocument=idp.metadata(), Name=f"idp-{name}"
    )["SAMLProviderArn"]
    role_name = world.role_arn.rsplit("/", 1)[1]
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=saml_trust(provider_arn))
    assert provider_arn == f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/idp-{name}"
    return SamlWorld(world, idp, provider_arn, world.role_arn)


class Posted(NamedTuple):
    """A browser's POST of a SAMLResponse to ``/saml``, as answered."""

    status: int
    cookie: str | None  # Set-Cookie
    page: str


def post_saml(server: Server, saml_response: str) -> Posted:
    """POST ``saml_response`` to the server's ``/saml`` as an IdP's auto-submitting form does."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/saml",
            body=urlencode({"SAMLResponse": saml_response}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        return Posted(response.status, response.getheader("Set-Cookie"), response.read().decode())
    finally:
        connection.close()
