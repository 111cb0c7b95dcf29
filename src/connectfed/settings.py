"""One settings object, passed down from the composition root (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    refresh_token_seconds: int = 12 * 3600  # the refresh horizon: no agent session outlives it
    # A rotated refresh token presented again within this many seconds (a retried request whose
    # answer was lost) gets another pair instead of revoking the family (RFC 9700 §4.14.2).
    refresh_reuse_grace_seconds: float = 0.0
    token_gc_seconds: float = 300.0  # ended token families are deleted at most this often
    allow_multiple_roles_per_user: bool = False
    throttle_rate: float = 2.0  # per second, per account and Region; 0 turns throttling off
    throttle_burst: int = 5
    # SAML: AssumeRoleWithSAML reuse within validity is allowed, as on AWS, unless single-use.
    saml_single_use: bool = False
    # SAML: accept RSA-SHA1 signatures and SHA-1 digests (some IdPs still sign with them).
    allow_saml_sha1: bool = False
    # HTTP
    max_body_bytes: int = 1024 * 1024
    body_timeout_seconds: float = 30.0  # a client slower than this to send its body gets 408
    # CCP: where the amazon-connect-streams npm package is installed (None: the source tree's
    # web-assets/node_modules), and who may frame the CCP (a CSP frame-ancestors source list).
    streams_dir: str | None = None
    ccp_frame_ancestors: str = "'self'"
    # Request heads (server/protocol.py): request target + header lines. 32 KiB is above what
    # AWS's front doors pass (API Gateway: 10 KiB of header values; CloudFront: 20 KiB), so no
    # request AWS accepts is refused, and below ALB's 64 KiB. Beyond: 431; slower: 408.
    max_header_bytes: int = 32 * 1024
    max_header_fields: int = 100
    head_timeout_seconds: float = 10.0
    keep_alive_seconds: int = 5  # an idle kept-alive connection is closed after this
    # Execution (issue 9): store calls run on this many threads per process, never on the event
    # loop (connectfed.offload); ``throttle_shared`` keeps the GetFederationToken quota in the
    # database, exact across every worker and server sharing it (else one bucket per process).
    store_threads: int = 8
    throttle_shared: bool = False
    # Admin API (time travel, fault injection; connectfed.admin): on only when asked for, and
    # then behind a bearer token when one is set (cli/serve.py decides, admin/access.py).
    # Another server on the same database sees a clock or fault change within
    # admin_cache_seconds.
    admin: bool = False
    admin_token: str | None = field(default=None, repr=False)
    admin_cache_seconds: float = 1.0
    # Explanations of denials (identity/explain.py) are recorded whether or not the admin API is
    # on (`connectfed explain` reads them from the database), and kept this long.
    explain_keep_seconds: float = 24 * 3600
    # Observability (issue 11): "text" or "json" (one JSON object a line, one line per
    # request); the audit trail keeps events this many days and at most this many (0: no
    # count bound), as CloudTrail's event history keeps 90 days. Every IAM, STS and Connect
    # write is an event; reads (Get*, List*, Describe*, LookupEvents) only with audit_reads.
    log_format: str = "text"
    audit_retention_days: float = 90.0
    audit_max_events: int = 1_000_000
    audit_reads: bool = False

    @property
    def saml_endpoints(self) -> tuple[str, ...]:
        """Where assertions may be addressed (Recipient/Destination): AWS's and our own."""
        return (
            "https://signin.aws.amazon.com/saml",
            f"https://{self.region}.signin.aws.amazon.com/saml",
            f"{self.public_url}/saml",
        )

    @property
    def saml_audiences(self) -> tuple[str, ...]:
        return (*self.saml_endpoints, "urn:amazon:webservices")
