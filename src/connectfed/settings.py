"""One settings object, passed down from the composition root (no globals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    region: str = "us-east-1"
    public_url: str = "http://127.0.0.1:8000"
    # SigV4
    clock_skew_seconds: int = 300
    # Hot-path caches: how long a change made by another process may take to be seen.
    cache_ttl_seconds: float = 2.0
    # GetFederationToken
    access_token_seconds: int = 3600
    refresh_token_seconds: int = 12 * 3600
    allow_multiple_roles_per_user: bool = False
    throttle_rate: float = 2.0  # per second, per account and Region; 0 turns throttling off
    throttle_burst: int = 5
    # SAML: AssumeRoleWithSAML reuse within validity is allowed, as on AWS, unless single-use.
    saml_single_use: bool = False
    # HTTP
    max_body_bytes: int = 1024 * 1024
    body_timeout_seconds: float = 30.0  # a client slower than this to send its body gets 408
    # CCP: where the amazon-connect-streams npm package is installed (None: the source tree's
    # web-assets/node_modules), and who may frame the CCP (a CSP frame-ancestors source list).
    streams_dir: str | None = None
    ccp_frame_ancestors: str = "'self'"

    @property
    def saml_endpoints(self) -> tuple[str, ...]:
        """Where assertions may be addressed (Recipient/Destination): AWS's and our own."""
        return ("https://signin.aws.amazon.com/saml",
                f"https://{self.region}.signin.aws.amazon.com/saml",
                f"{self.public_url}/saml")

    @property
    def saml_audiences(self) -> tuple[str, ...]:
        return (*self.saml_endpoints, "urn:amazon:webservices")
