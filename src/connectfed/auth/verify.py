"""Server-side SigV4 verification of a received request (header and presigned query forms).

Every rule of ``shared/SECURITY.md`` (SigV4 part) is enforced here: canonicalisation from the raw
path, ``host`` and every ``x-amz-*`` header signed, scope date/region/service checks, a bounded
clock skew with AWS's messages, the body hash computed rather than trusted, presigned expiry, and
a constant-time comparison. Looking up the secret for an access key is the caller's business
(:class:`SecretLookup`), so this module knows nothing of IAM or storage.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectfed.auth import sigv4
from connectfed.errors import IncompleteSignature, InvalidSignature, MissingAuthenticationToken

_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_PRESIGN_EXPIRES = 604800


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A request exactly as it arrived: raw path and query, header list, body bytes."""

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    # Transport facts from the connection itself (never from headers such as X-Forwarded-For):
    # the peer's IP address and whether the connection is TLS.
    source_ip: str | None = None
    secure: bool = False
    # Lower-cased name -> the first value under that name (what :meth:`header` answers); built
    # once, as a request's headers are looked up a dozen times on its way through.
    by_name: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for key, value in self.headers:
            index.setdefault(key.lower(), value)
        object.__setattr__(self, "by_name", index)

    def header(self, name: str) -> str | None:
        return self.by_name.get(name.lower())


@dataclass(frozen=True, slots=True)
class SignatureClaim:
    """What the request says about its own signature, before any check."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None
    security_token: str | None

    @property
    def scope(self) -> str:
        return sigv4.scope(self.date, self.region, self.service)


def _fmt(moment: datetime) -> str:
    return moment.strftime(_AMZ_DATE)


def _parse_authorization(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != sigv4.ALGORITHM:
        raise IncompleteSignature(
            f"Unsupported AWS 'algorithm': '{algorithm}'"
            if algorithm.startswith("AWS4")
            else "Authorization header requires existence of either a 'X-Amz-Date' or a"
            " 'Date' header. Authorization=" + value
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key.strip()] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        message = " ".join(f"Authorization header requires '{k}' parameter." for k in missing)
        raise IncompleteSignature(f"{message} Authorization={value}")
    return fields


def _split_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise IncompleteSignature(
            "Credential should be scoped to a valid region. "
            if len(parts) == 5
            else f"Authorization header requires 'Credential' parameter. Credential={credential}"
        )
    return parts[0], parts[1], parts[2], parts[3]


def _signed_header_list(value: str) -> tuple[str, ...]:
    names = tuple(value.split(";"))
    if not value or any(n != n.lower() or not n for n in names) or list(names) != sorted(names):
        raise IncompleteSignature(
            f"SignedHeaders must be lower-case, sorted and separated by ';'. SignedHeaders={value}"
        )
    return names


def read_claim(request: ReceivedRequest) -> SignatureClaim | None:
    """Parse the signature the request carries; ``None`` when it carries none."""
    authorization = request.header("authorization")
    query = dict(sigv4.parse_raw_query(request.raw_query)) if request.raw_query else {}
    presigned = "X-Amz-Signature" in query or "X-Amz-Credential" in query
    if authorization is not None and presigned:
        raise InvalidSignature(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified"
        )
    if authorization is not None:
        if not authorization.strip():
            raise MissingAuthenticationToken()
        fields = _parse_authorization(authorization)
        key_id, date, region, service = _split_credential(fields["Credential"])
        amz_date = request.header("x-amz-date")
        if amz_date is None:
            http_date = request.header("date")
            if http_date is None:
                raise IncompleteSignature(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a "
                    f"'Date' header. Authorization={authorization}"
                )
            try:
                amz_date = _fmt(datetime.strptime(http_date, _HTTP_DATE).replace(tzinfo=UTC))
            except ValueError:
                raise IncompleteSignature(
                    f"Date must be in ISO-8601 'basic format'. Got '{http_date}'."
                ) from None
        return SignatureClaim(
            access_key_id=key_id,
            date=date,
            region=region,
            service=service,
            signed_headers=_signed_header_list(fields["SignedHeaders"]),
            signature=fields["Signature"],
            amz_date=amz_date,
            presigned=False,
            expires=None,
            security_token=request.header("x-amz-security-token"),
        )
    if presigned:
        missing = [p for p in _PRESIGN_PARAMS if p not in query]
        if missing:
            raise IncompleteSignature(
                " ".join(f"AWS query-string parameters must include '{p}'." for p in missing)
                + " Re-examine the query-string parameters."
            )
        if query["X-Amz-Algorithm"] != sigv4.ALGORITHM:
            raise IncompleteSignature(f'X-Amz-Algorithm only supports "{sigv4.ALGORITHM}"')
        key_id, date, region, service = _split_credential(query["X-Amz-Credential"])
        try:
            expires = int(query["X-Amz-Expires"])
        except ValueError:
            raise IncompleteSignature("X-Amz-Expires must be an integer.") from None
        if not 1 <= expires <= _MAX_PRESIGN_EXPIRES:
            raise IncompleteSignature(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800 "
                "and greater than 0."
            )
        return SignatureClaim(
            access_key_id=key_id,
            date=date,
            region=region,
            service=service,
            signed_headers=_signed_header_list(query["X-Amz-SignedHeaders"]),
            signature=query["X-Amz-Signature"],
            amz_date=query["X-Amz-Date"],
            presigned=True,
            expires=expires,
            security_token=query.get("X-Amz-Security-Token"),
        )
    return None


class SigningKeyCache:
    """Derived signing keys per (key id, secret, date, region, service); bounded LRU."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._keys: OrderedDict[tuple[str, str, str, str, str], bytes] = OrderedDict()

    def get(self, key_id: str, secret: str, date: str, region: str, service: str) -> bytes:
        cache_key = (key_id, secret, date, region, service)
        key = self._keys.get(cache_key)
        if key is None:
            key = sigv4.signing_key(secret, date, region, service)
            self._keys[cache_key] = key
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return key


def check_scope(claim: SignatureClaim, *, service: str, regions: Sequence[str]) -> None:
    if claim.service != service:
        raise InvalidSignature(f"Credential should be scoped to correct service: '{service}'. ")
    if claim.region not in regions:
        raise InvalidSignature("Credential should be scoped to a valid region. ")


@functools.lru_cache(maxsize=256)
def _parse_amz_date(value: str) -> datetime:
    """``YYYYMMDDTHHMMSSZ``; a hand-rolled parse, as strptime is a tenth of the hot path, and
    remembered: the requests of one second share their date."""
    if (
        len(value) != 16
        or value[8] != "T"
        or value[15] != "Z"
        or not (value[:8] + value[9:15]).isdigit()
    ):
        raise ValueError(value)
    return datetime(
        int(value[:4]),
        int(value[4:6]),
        int(value[6:8]),
        int(value[9:11]),
        int(value[11:13]),
        int(value[13:15]),
        tzinfo=UTC,
    )


def check_time(claim: SignatureClaim, now: datetime, skew: timedelta) -> None:
    try:
        signed_at = _parse_amz_date(claim.amz_date)
    except ValueError:
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{claim.amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    if claim.date != claim.amz_date[:8]:
        raise InvalidSignature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{claim.date}' != '{claim.amz_date[:8]}', from '{claim.amz_date}'."
        )
    now = now.replace(microsecond=0)
    if claim.presigned:
        assert claim.expires is not None
        if signed_at - skew > now:
            raise InvalidSignature(
                f"Signature not yet current: {claim.amz_date} is still later than "
                f"{_fmt(now + skew)} ({_fmt(now)} + 5 min.)"
            )
        if now > signed_at + timedelta(seconds=claim.expires):
            raise InvalidSignature(
                f"Signature expired: {_fmt(signed_at + timedelta(seconds=claim.expires))} "
                f"is now earlier than {_fmt(now)}"
            )
        return
    if signed_at < now - skew:
        raise InvalidSignature(
            f"Signature expired: {claim.amz_date} is now earlier than "
            f"{_fmt(now - skew)} ({_fmt(now)} - 5 min.)"
        )
    if signed_at > now + skew:
        raise InvalidSignature(
            f"Signature not yet current: {claim.amz_date} is still later than "
            f"{_fmt(now + skew)} ({_fmt(now)} + 5 min.)"
        )


def check_signed_headers(request: ReceivedRequest, claim: SignatureClaim) -> None:
    signed = set(claim.signed_headers)
    if "host" not in signed:
        raise InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    present = request.by_name
    for lower in present:
        if lower.startswith("x-amz-") and lower not in signed and lower != "x-amz-signature":
            raise InvalidSignature(
                f"The request signature we calculated does not match the signature you provided."
                f" Header '{lower}' is present but is not signed. Check your AWS Secret Access"
                " Key and signing method. Consult the service documentation for details."
            )
    for name in claim.signed_headers:
        if name not in present:
            raise InvalidSignature(
                f"The request signature we calculated does not match the signature you provided."
                f" Signed header '{name}' is not present in the request."
            )


def payload_hash(request: ReceivedRequest) -> str:
    """The SHA-256 of the body actually received; a claimed hash must agree with it."""
    actual = hashlib.sha256(request.body).hexdigest() if request.body else sigv4.EMPTY_SHA256
    claimed = request.header("x-amz-content-sha256")
    if claimed is not None and claimed != actual:
        raise InvalidSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return actual


def expected_signature(
    request: ReceivedRequest,
    claim: SignatureClaim,
    key: bytes,
    *,
    normalize: bool = True,
) -> tuple[str, str, str]:
    """(canonical request, string to sign, signature) as the server computes them."""
    pairs = sigv4.parse_raw_query(request.raw_query, exact=True)
    creq = sigv4.canonical_request(
        request.method,
        sigv4.canonical_uri(request.raw_path, normalize=normalize),
        sigv4.canonical_query(pairs, exclude="X-Amz-Signature" if claim.presigned else None),
        request.headers,
        claim.signed_headers,
        payload_hash(request),
    )
    sts = sigv4.string_to_sign(claim.amz_date, claim.scope, creq)
    return creq, sts, sigv4.signature(key, sts)


def verify(
    request: ReceivedRequest,
    claim: SignatureClaim,
    secret: str,
    *,
    now: datetime,
    keys: SigningKeyCache,
    skew: timedelta = timedelta(minutes=5),
) -> None:
    """Raise an :class:`~connectfed.errors.AuthError` unless the signature is right and current."""
    check_time(claim, now, skew)
    check_signed_headers(request, claim)
    if not _HEX64.fullmatch(claim.signature):
        raise InvalidSignature()
    key = keys.get(claim.access_key_id, secret, claim.date, claim.region, claim.service)
    _, _, computed = expected_signature(request, claim, key)
    if not hmac.compare_digest(computed, claim.signature):
        raise InvalidSignature()


SecretLookup = Callable[[SignatureClaim], str]
