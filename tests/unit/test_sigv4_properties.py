"""Property tests with botocore's signer as the oracle: anything it signs verifies; any single
mutation of a signed request is rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from connectfed.auth import sigv4
from connectfed.auth.verify import ReceivedRequest, SigningKeyCache, read_claim, verify
from connectfed.errors import AuthError

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token/+=")
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12)
segment = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#"),
    min_size=1,
    max_size=10,
)
header_name = st.from_regex(r"x-test-[a-z0-9]{1,8}", fullmatch=True)
header_value = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
)

requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
        "segments": st.lists(segment, min_size=0, max_size=4),
        "query": st.lists(st.tuples(text.filter(bool), text), max_size=4),
        "headers": st.dictionaries(header_name, header_value, max_size=3),
        "body": st.binary(max_size=64),
    }
)


def _sign(spec: dict, *, presign: bool = False) -> ReceivedRequest:
    path = "/" + "/".join(quote(s, safe="") for s in spec["segments"])
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in spec["query"])
    url = f"https://connect.us-east-1.amazonaws.com{path}" + (f"?{query}" if query else "")
    request = AWSRequest(
        method=spec["method"], url=url, data=spec["body"], headers=dict(spec["headers"])
    )
    if presign:
        SigV4QueryAuth(CREDS, "connect", "us-east-1", expires=300).add_auth(request)
    else:
        SigV4Auth(CREDS, "connect", "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [(k, v if isinstance(v, str) else v.decode()) for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(("Host", parts.netloc))
    return ReceivedRequest(
        spec["method"],
        parts.path or "/",
        parts.query,
        headers,
        prepared.body or b"" if isinstance(prepared.body, bytes | None) else prepared.body.encode(),
    )


def _check(request: ReceivedRequest, now: datetime | None = None) -> None:
    claim = read_claim(request)
    assert claim is not None
    verify(request, claim, CREDS.secret_key, now=now or datetime.now(UTC), keys=SigningKeyCache())


@settings(max_examples=150, deadline=None)
@given(requests)
def test_anything_botocore_signs_verifies(spec: dict) -> None:
    _check(_sign(spec))


@settings(max_examples=80, deadline=None)
@given(requests)
def test_anything_botocore_presigns_verifies(spec: dict) -> None:
    spec = dict(spec, body=b"")
    _check(_sign(spec, presign=True))


def _mutations(request: ReceivedRequest) -> list[tuple[str, ReceivedRequest]]:
    out = []
    out.append(
        (
            "body",
            ReceivedRequest(
                request.method,
                request.raw_path,
                request.raw_query,
                request.headers,
                request.body + b"x",
            ),
        )
    )
    out.append(
        (
            "path",
            ReceivedRequest(
                request.method,
                request.raw_path.rstrip("/") + "/z",
                request.raw_query,
                request.headers,
                request.body,
            ),
        )
    )
    out.append(
        (
            "method",
            ReceivedRequest(
                "PATCH", request.raw_path, request.raw_query, request.headers, request.body
            ),
        )
    )
    out.append(
        (
            "query",
            ReceivedRequest(
                request.method,
                request.raw_path,
                request.raw_query + ("&" if request.raw_query else "") + "extra=1",
                request.headers,
                request.body,
            ),
        )
    )
    for index, (name, value) in enumerate(request.headers):
        lower = name.lower()
        if lower in ("host", "x-amz-date", "x-amz-security-token") or lower.startswith("x-test"):
            changed = list(request.headers)
            changed[index] = (name, value + "0")
            out.append(
                (
                    f"header {lower}",
                    ReceivedRequest(
                        request.method, request.raw_path, request.raw_query, changed, request.body
                    ),
                )
            )
        if lower == "authorization":
            changed = list(request.headers)
            flipped = value[:-1] + ("0" if value[-1] != "0" else "1")
            changed[index] = (name, flipped)
            out.append(
                (
                    "signature",
                    ReceivedRequest(
                        request.method, request.raw_path, request.raw_query, changed, request.body
                    ),
                )
            )
    out.append(
        (
            "unsigned x-amz header",
            ReceivedRequest(
                request.method,
                request.raw_path,
                request.raw_query,
                [*request.headers, ("X-Amz-Extra", "1")],
                request.body,
            ),
        )
    )
    return out


@settings(max_examples=60, deadline=None)
@given(requests)
def test_any_single_mutation_is_rejected(spec: dict) -> None:
    signed = _sign(spec)
    for label, mutated in _mutations(signed):
        with pytest.raises(AuthError):
            _check(mutated)
            pytest.fail(f"mutation accepted: {label}")


@pytest.mark.parametrize(
    "offset,message",
    [
        (timedelta(minutes=6), "Signature expired"),
        (timedelta(minutes=-6), "Signature not yet current"),
    ],
)
def test_clock_skew_beyond_five_minutes_is_rejected(offset: timedelta, message: str) -> None:
    signed = _sign({"method": "GET", "segments": ["user"], "query": [], "headers": {}, "body": b""})
    with pytest.raises(AuthError, match=message):
        _check(signed, now=datetime.now(UTC) + offset)


def test_client_signer_and_server_verifier_agree() -> None:
    amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = sigv4.sign_headers(
        method="GET",
        raw_path="/user/federate/abc",
        raw_query="",
        headers={"Host": "127.0.0.1:8000"},
        body=b"",
        credentials=sigv4.Credentials(CREDS.access_key, CREDS.secret_key, CREDS.token),
        region="us-east-1",
        service="connect",
        amz_date=amz_date,
    )
    _check(ReceivedRequest("GET", "/user/federate/abc", "", list(headers.items()), b""))
