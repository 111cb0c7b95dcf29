"""AWS Signature Version 4: canonical request, string to sign, signing key, signature.

Pure functions, shared by the server's verifier (:mod:`connectfed.auth.verify`) and the client
(:mod:`connectfed.client`), so both sides compute exactly the same thing.

Spec: "Create a canonical request for Signature Version 4" and "Create a string to sign" in the
AWS General Reference (IAM user guide, "Elements of an AWS API request signature"). Checked
against the official test suite in ``shared/vectors/sigv4*``.

Hand-written on purpose: botocore's signer only signs (it builds the canonical request from its
own prepared request object), and a verifier must canonicalise from the raw bytes received.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_UNRESERVED = "-_.~"


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    """RFC 3986 percent-encoding of everything but unreserved characters (space is ``%20``);
    a byte kept as a surrogate escape (see :func:`parse_raw_query`) is encoded as that byte."""
    return quote(value, safe=_UNRESERVED + ("/" if keep_slash else ""), errors="surrogateescape")


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 dot-segment removal; AWS also collapses consecutive slashes."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


def canonical_uri(raw_path: str, *, normalize: bool = True) -> str:
    """The canonical URI from the path exactly as it was sent on the wire.

    For every service but S3 the path is normalised and each segment encoded once more, so an
    ``a%20b`` on the wire becomes ``a%2520b`` here.
    """
    path = raw_path or "/"
    if normalize:
        path = remove_dot_segments(path)
    return uri_encode(path, keep_slash=True)


def parse_raw_query(raw_query: str, *, exact: bool = False) -> list[tuple[str, str]]:
    """Split a raw query string into decoded (key, value) pairs, keeping repeats and order.

    Escapes that are not UTF-8 (``%FF``) decode to U+FFFD, or, ``exact``, to surrogate
    escapes that :func:`uri_encode` turns back into the same bytes: what canonicalisation
    needs, since SigV4 signs the query's bytes (``%FF`` stays ``%FF``)."""
    errors = "surrogateescape" if exact else "replace"
    pairs: list[tuple[str, str]] = []
    if not raw_query:
        return pairs
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key, errors=errors), unquote(value, errors=errors)))
    return pairs


def canonical_query(pairs: Iterable[tuple[str, str]], *, exclude: str | None = None) -> str:
    """Sorted by encoded key then value; repeated keys kept; empty values as ``k=``."""
    encoded = sorted((uri_encode(key), uri_encode(value)) for key, value in pairs if key != exclude)
    return "&".join(f"{key}={value}" for key, value in encoded)


def _trim(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(headers: Sequence[tuple[str, str]], signed: Sequence[str]) -> str:
    """``name:value\\n`` for each signed header, repeated headers joined with ``,``."""
    wanted = set(signed)
    collected: dict[str, list[str]] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in wanted:
            collected.setdefault(lower, []).append(_trim(value))
    return "".join(f"{name}:{','.join(collected.get(name, []))}\n" for name in signed)


def canonical_request(
    method: str,
    uri: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    signed: Sequence[str],
    payload_hash: str,
) -> str:
    return "\n".join(
        (
            method,
            uri,
            query,
            canonical_headers(headers, signed),
            ";".join(signed),
            payload_hash,
        )
    )


def scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/aws4_request"


def string_to_sign(amz_date: str, credential_scope: str, creq: str) -> str:
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{credential_scope}\n{digest}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def signature(key: bytes, sts: str) -> str:
    return hmac.digest(key, sts.encode("utf-8"), "sha256").hex()


@dataclass(frozen=True, slots=True)
class Credentials:
    """A key pair and, for temporary ones, the session token; the secrets are out of the repr
    (a client's config shown in a log line or a traceback)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


# Headers a signer leaves out: they are changed by proxies or added by the transport.
UNSIGNABLE = frozenset(
    {
        "authorization",
        "user-agent",
        "expect",
        "x-amzn-trace-id",
        "transfer-encoding",
        "connection",
        "content-length",
    }
)


def sign_headers(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    amz_date: str,
) -> dict[str, str]:
    """Client side: return ``headers`` plus ``X-Amz-Date``, the token and ``Authorization``.

    ``headers`` must already include ``Host``.
    """
    signed_headers = dict(headers)
    signed_headers["X-Amz-Date"] = amz_date
    if credentials.session_token:
        signed_headers["X-Amz-Security-Token"] = credentials.session_token
    pairs = [(k, v) for k, v in signed_headers.items()]
    names = sorted({k.lower() for k in signed_headers if k.lower() not in UNSIGNABLE})
    creq = canonical_request(
        method,
        canonical_uri(raw_path),
        canonical_query(parse_raw_query(raw_query, exact=True)),
        pairs,
        names,
        hashlib.sha256(body).hexdigest(),
    )
    cscope = scope(amz_date[:8], region, service)
    key = signing_key(credentials.secret_access_key, amz_date[:8], region, service)
    sig = signature(key, string_to_sign(amz_date, cscope, creq))
    signed_headers["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{cscope}, "
        f"SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    return signed_headers
