"""What ``connectfed serve`` prints once it accepts connections: where it listens, credentials
generated on this start, and with ``--demo`` the demo's users and ready-to-paste commands.

Every command printed for the demo runs as one of the demo's IAM users; the account's root keys
are never needed (README, "Root credentials" says how to rotate them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connectfed import __version__
from connectfed.app import Bootstrap
from connectfed.demo import DEMO_ROLE, DemoAdmin, DemoData


@dataclass(frozen=True, slots=True)
class Endpoint:
    public_url: str
    region: str
    ca_bundle: Path | None

    @property
    def cli_options(self) -> str:
        """The options that point the AWS CLI at this server."""
        tls = f" --ca-bundle {self.ca_bundle}" if self.ca_bundle else ""
        return f"--endpoint-url {self.public_url} --region {self.region}{tls}"


def server_lines(endpoint: Endpoint, boot: Bootstrap) -> list[str]:
    lines = [
        f"connectfed {__version__} listening on {endpoint.public_url} "
        f"(region {endpoint.region}, account {boot.account_id})"
    ]
    if boot.created:
        lines += [
            "Root credentials of the account (generated now, shown once; the demo never needs "
            'them; README "Root credentials" says how to rotate them):',
            f"  CONNECTFED_ACCOUNT_ID={boot.account_id}",
            f"  CONNECTFED_ROOT_ACCESS_KEY_ID={boot.root_access_key_id}",
            f"  CONNECTFED_ROOT_SECRET_ACCESS_KEY={boot.root_secret_access_key}",
        ]
    if endpoint.ca_bundle is not None:
        lines.append(
            f"CA bundle for clients: {endpoint.ca_bundle}  "
            f"(aws ... --ca-bundle {endpoint.ca_bundle})"
        )
    return lines


def _credentials(access_key_id: str, secret_access_key: str) -> list[str]:
    return [
        f"  export AWS_ACCESS_KEY_ID={access_key_id}",
        f"  export AWS_SECRET_ACCESS_KEY={secret_access_key}",
        "  unset AWS_SESSION_TOKEN AWS_PROFILE",
    ]


def demo_lines(
    endpoint: Endpoint,
    demo: DemoData,
    admin: DemoAdmin,
    federation_user: str,
    data_dir: Path | None,
) -> list[str]:
    """The demo's two IAM users, each with what it is for and commands to paste."""
    ep = endpoint.cli_options
    kept = f" in {data_dir}" if data_dir is not None else ""
    return [
        f"Demo instance {demo.instance_id} with Connect users {', '.join(demo.agents)}.",
        "",
        f"1. Administrator: IAM user {admin.user_name} (AdministratorAccess: may do anything; "
        "use it to look around and change the setup):",
        *_credentials(admin.access_key_id, admin.secret_access_key),
        f"  aws connect list-users --instance-id {demo.instance_id} {ep}",
        "",
        f"2. Federation only: IAM user {federation_user} (may only assume the role {DEMO_ROLE}, "
        "as the application that signs agents in would):",
        *_credentials(demo.access_key_id, demo.secret_access_key),
        f"  aws sts assume-role --role-arn {demo.role_arn} --role-session-name agent1 {ep}",
        "  # export the returned AccessKeyId, SecretAccessKey and SessionToken as",
        "  # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, then:",
        f"  aws connect get-federation-token --instance-id {demo.instance_id} {ep}",
        "",
        f"Both users' keys are kept (secrets encrypted) in the database{kept}: "
        "every restart prints them again.",
        f"CCP (after signing in): {endpoint.public_url}/connect/{demo.instance_id}/ccp-v2/",
    ]


def test_idp_lines(endpoint: Endpoint) -> list[str]:
    return [
        f"Test IdP: open {endpoint.public_url}/idp in a browser and pick a user "
        "(each says what it demonstrates)"
    ]
