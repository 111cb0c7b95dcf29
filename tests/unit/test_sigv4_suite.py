"""The official AWS SigV4 test suites (shared/vectors, unmodified) against our verifier."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectfed.auth.verify import (
    ReceivedRequest,
    SigningKeyCache,
    expected_signature,
    read_claim,
    verify,
)
from connectfed.errors import AuthError, InvalidSignature
from tests.support.vectors import vectors_dir

VECTORS = vectors_dir()
BOTOCORE_SUITE = VECTORS / "sigv4"
CRT_SUITE = VECTORS / "sigv4-aws-c-auth" / "tests" / "aws-signing-test-suite" / "v4"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


def parse_http(text: str) -> ReceivedRequest:
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    path, _, query = target.partition("?")
    return ReceivedRequest(method, path, query, headers, body.encode())


def suite_cases(root: Path) -> list[Path]:
    cases = []
    for req in sorted(root.rglob("*.req")):
        cases.append(req.with_suffix(""))
    return cases


@pytest.mark.parametrize("case", suite_cases(BOTOCORE_SUITE), ids=lambda p: p.name)
def test_botocore_suite_canonical_request_string_to_sign_and_acceptance(case: Path) -> None:
    # The signed request with the expected Authorization (.authz) in place of its own: upstream's
    # get-vanilla-with-session-token.sreq carries get-vanilla's signature by mistake.
    sent = parse_http(case.with_suffix(".sreq").read_text())
    authorization = case.with_suffix(".authz").read_text().strip()
    headers = [(k, v) for k, v in sent.headers if k.lower() != "authorization"]
    signed = ReceivedRequest(
        sent.method,
        sent.raw_path,
        sent.raw_query,
        [*headers, ("Authorization", authorization)],
        sent.body,
    )
    claim = read_claim(signed)
    assert claim is not None
    keys = SigningKeyCache()
    key = keys.get(claim.access_key_id, SECRET, claim.date, claim.region, claim.service)
    if case.name == "post-sts-header-after":
        with pytest.raises(InvalidSignature, match="is present but is not signed"):
            verify(signed, claim, SECRET, now=SUITE_TIME, keys=keys)
        return
    creq, sts, signature = expected_signature(signed, claim, key)
    assert creq == case.with_suffix(".creq").read_text()
    assert sts == case.with_suffix(".sts").read_text()
    assert signature == claim.signature
    verify(signed, claim, SECRET, now=SUITE_TIME, keys=keys)


def crt_cases() -> list[tuple[Path, str]]:
    return [
        (case, form)
        for case in sorted(p for p in CRT_SUITE.iterdir() if p.is_dir())
        for form in ("header", "query")
    ]


@pytest.mark.parametrize(
    "case,form", crt_cases(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_aws_c_auth_suite_header_and_presigned(case: Path, form: str) -> None:
    context = json.loads((case / "context.json").read_text())
    signed = parse_http((case / f"{form}-signed-request.txt").read_text())
    claim = read_claim(signed)
    assert claim is not None
    secret = context["credentials"]["secret_access_key"]
    now = datetime.fromisoformat(context["timestamp"].replace("Z", "+00:00"))
    keys = SigningKeyCache()
    key = keys.get(claim.access_key_id, secret, claim.date, claim.region, claim.service)
    if context.get("omit_session_token"):
        # The token was added after signing: our rule (every x-amz-* signed) must refuse it.
        with pytest.raises(InvalidSignature):
            verify(signed, claim, secret, now=now, keys=keys)
        return
    creq, sts, signature = expected_signature(signed, claim, key, normalize=context["normalize"])
    assert creq == (case / f"{form}-canonical-request.txt").read_text()
    assert sts == (case / f"{form}-string-to-sign.txt").read_text()
    assert signature == (case / f"{form}-signature.txt").read_text().strip()
    if not context["normalize"]:
        # S3-style cases: every other service normalises, so the server must refuse them
        # whenever normalising changes the path.
        normalized = expected_signature(signed, claim, key)[2]
        if normalized != signature:
            with pytest.raises(InvalidSignature):
                verify(signed, claim, secret, now=now, keys=keys)
        return
    verify(signed, claim, secret, now=now, keys=keys)
    if form == "query":
        with pytest.raises(AuthError, match="Signature expired"):
            verify(signed, claim, secret, keys=keys, now=now.replace(hour=now.hour + 1, second=1))
