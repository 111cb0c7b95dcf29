"""The demo dataset for ``connectfed serve --demo``: a SAML instance with two agents, a
federation role, and an IAM user allowed to assume it; with ``--test-idp`` also the built-in
test IdP, trusted by the demo roles. Both are declared worlds shipped with the package
(``connectfed/seed/demo.yaml``, ``demo-test-idp.yaml``), applied idempotently on every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from connectfed.seed import apply_world, parse
from connectfed.seed.schema import World
from connectfed.web.testidp_site import TestIdpSite

if TYPE_CHECKING:
    from connectfed.app import Services

DEMO_ROLE = "ConnectAgentFederation"
DEMO_USER = "demo-admin"
DEMO_AGENTS = ("agent1", "agent2")


@dataclass(frozen=True, slots=True)
class DemoData:
    instance_id: str
    role_arn: str
    access_key_id: str
    secret_access_key: str
    agents: tuple[str, ...]
    idp: TestIdpSite | None = None  # the test IdP's pages, with ``test_idp``


def demo_world(test_idp: bool = False) -> World:
    """The demo's declared world, as shipped in the package."""
    name = "demo-test-idp.yaml" if test_idp else "demo.yaml"
    text = resources.files("connectfed.seed").joinpath(name).read_text(encoding="utf-8")
    return parse(text, name)


def ensure_demo(services: Services, test_idp: bool = False) -> DemoData:
    applied = apply_world(services, demo_world(test_idp))
    key = applied.access_keys(DEMO_USER)[0]
    return DemoData(applied.instance("demo").instance_id, applied.role_arn(DEMO_ROLE),
                    key.access_key_id, key.secret_access_key, DEMO_AGENTS, applied.test_idp)
