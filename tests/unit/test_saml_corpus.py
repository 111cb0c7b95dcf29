"""Public SAML attack corpora (tests/vectors/saml, unmodified) against the verifier.

Most vectors are signed with RSA-SHA1 and dated 2014-2020, so SHA-1 is allowed explicitly here
and the clock is set from the manifest (or the document's IssueInstant for positive controls);
Recipient/Audience are taken from the document itself so that only the rule under attack
(wrapping, multiple assertions, comments, unsigned parts) decides.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from connectfed.saml import xml
from connectfed.saml.assertion import SAML, AssertionRejected, verify_response
from connectfed.saml.metadata import DS, IdpMetadata

CORPUS = Path(__file__).resolve().parents[1] / "vectors" / "saml"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "MANIFEST.json").read_text())["cases"]


def _document(case: dict[str, Any]) -> bytes:
    raw = (CORPUS / case["file"]).read_bytes()
    if case.get("encoding") == "base64" or (
        case.get("encoding") is None and not raw.lstrip().startswith(b"<")
    ):
        return base64.b64decode(b"".join(raw.split()))
    return raw


def _pem(der_b64: str) -> str:
    der = base64.b64decode("".join(der_b64.split()))
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()


def _certificates(case: dict[str, Any]) -> tuple[str, ...]:
    if case.get("idp_metadata"):
        root = xml.parse((CORPUS / case["idp_metadata"]).read_bytes())
        return tuple(_pem(c.text or "") for c in root.iter(f"{{{DS}}}X509Certificate"))
    reference = case.get("idp_cert")
    if reference and "#" in reference:
        path, key = reference.split("#", 1)
        value: Any = json.loads((CORPUS / path).read_text())
        for part in key.split("."):
            value = value[part]
        return (_pem(value),)
    if reference:
        return ((CORPUS / reference).read_text(),)
    return ()


def _lenient_context(document: bytes) -> tuple[list[str], list[str], str, datetime]:
    root = xml.parse(document)
    recipients = [
        e.get(a)
        for e in root.iter()
        if isinstance(e.tag, str)
        for a in ("Destination", "Recipient")
        if e.get(a)
    ]
    audiences = [(a.text or "").strip() for a in root.iter(f"{{{SAML}}}Audience")]
    issuers = [(i.text or "").strip() for i in root.iter(f"{{{SAML}}}Issuer")]
    instants = [
        e.get("IssueInstant")
        for e in root.iter()
        if isinstance(e.tag, str) and e.get("IssueInstant")
    ]
    when = (
        datetime.fromisoformat(instants[0].replace("Z", "+00:00"))
        if instants
        else datetime.now(UTC)
    )
    return recipients, audiences, issuers[0] if issuers else "", when


def _within_certificates(case: dict[str, Any], moment: datetime) -> datetime:
    """A clock inside the pinned certificates' validity (one upstream fixture's certificate
    starts after its own response was issued)."""
    starts = [
        x509.load_pem_x509_certificate(p.encode()).not_valid_before_utc for p in _certificates(case)
    ]
    return max([moment, *starts])


def _verify(case: dict[str, Any], document: bytes | None = None) -> Any:
    document = document or _document(case)
    recipients, audiences, issuer, issued = _lenient_context(document)
    now = (
        datetime.fromisoformat(case["now"].replace("Z", "+00:00"))
        if case.get("now")
        else _within_certificates(case, issued)
    )
    metadata = IdpMetadata(issuer, _certificates(case), None)
    return verify_response(
        document,
        metadata=metadata,
        recipients=[r for r in recipients if r],
        audiences=audiences,
        now=now,
        allow_sha1=True,
    )


REJECT = [c for c in CASES if c["expect"].startswith("reject")]


@pytest.mark.parametrize("case", REJECT, ids=[c["id"] for c in REJECT])
def test_attack_vectors_are_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(AssertionRejected):
        _verify(case)


def _case(case_id: str) -> dict[str, Any]:
    return next(c for c in CASES if c["id"] == case_id)


def test_multiple_assertions_are_rejected() -> None:
    with pytest.raises(AssertionRejected):
        _verify(_case("crewjam-multiple-assertions"))


def test_comment_injection_never_truncates_the_name_id() -> None:
    case = _case("crewjam-comment-injection-base")
    document = _document(case)
    assert _verify(case, document).name_id == "ross@octolabs.io"
    attacked = document.replace(b"ross@octolabs.io", b"ross@<!-- and a comment -->octolabs.io")
    try:
        verified = _verify(case, attacked)
    except AssertionRejected:
        return
    assert verified.name_id == "ross@octolabs.io"


def test_node_text_attack_reads_the_full_name_id() -> None:
    case = _case("python3-saml-node-text-attack")
    try:
        verified = _verify(case)
    except AssertionRejected:
        return
    assert verified.name_id == "support@onelogin.com"


@pytest.mark.parametrize("case_id", ["crewjam-onelogin-valid", "crewjam-signed-assertion-valid"])
def test_positive_controls_fail_only_on_sha1_when_sha1_is_refused(case_id: str) -> None:
    """With SHA-1 allowed the controls' signatures verify; by default SHA-1 is refused."""
    case = _case(case_id)
    try:
        _verify(case)
    except AssertionRejected as exc:
        assert exc.reason != "signature", f"the control's signature did not verify: {exc}"
    document = _document(case)
    recipients, audiences, issuer, issued = _lenient_context(document)
    metadata = IdpMetadata(issuer, _certificates(case), None)
    with pytest.raises(AssertionRejected) as caught:
        verify_response(
            document,
            metadata=metadata,
            recipients=recipients,
            audiences=audiences,
            now=_within_certificates(case, issued),
        )
    assert caught.value.reason == "signature"
    assert (
        "SHA1" in str(caught.value)
        or "SHA-1" in str(caught.value)
        or "not supported" in str(caught.value)
        or "sha1" in str(caught.value).lower()
    )


# python3-saml responses the manifest does not list, checked against the pinned settings1.json
# certificate (feide.erlang.no) with the clock inside its validity (mid-2007), so that only the
# signature decides: each is refused for its signature (wrong key, or no SignatureMethod nor
# SignatureValue) except signed_message_response, which that certificate did sign and which
# then fails only on time (its assertion is dated 2014).
PYTHON3_SAML = "python3-saml/tests/data/responses/"
UNLISTED = {
    PYTHON3_SAML + "invalids/no_key.xml.base64": "signature",
    PYTHON3_SAML + "invalids/signed_assertion_response.xml.base64": "signature",
    PYTHON3_SAML + "response1.xml.base64": "signature",
    PYTHON3_SAML + "signed_message_response.xml.base64": "time",
}


@pytest.mark.parametrize("path,reason", sorted(UNLISTED.items()))
def test_unlisted_python3_saml_responses_are_refused_for_their_signature(
    path: str, reason: str
) -> None:
    case = {
        "file": path,
        "encoding": "base64",
        "idp_cert": "python3-saml/tests/settings/settings1.json#idp.x509cert",
        "now": "2007-07-01T00:00:00Z",
    }
    with pytest.raises(AssertionRejected) as caught:
        _verify(case)
    assert caught.value.reason == reason, caught.value


def test_every_corpus_response_is_exercised() -> None:
    used = {c["file"] for c in CASES} | set(UNLISTED)
    for case in CASES:
        used |= {case[k].split("#")[0] for k in ("idp_metadata", "idp_cert") if case.get(k)}
    data = {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.name not in ("LICENSE", "NOTICE", "SOURCE.txt", "MANIFEST.json")
    }
    assert data - used == set()
