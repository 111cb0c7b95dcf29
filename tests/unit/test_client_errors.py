"""The client's one error parser, over the Smithy/botocore protocol vectors and our own cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectfed.client import errors

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "protocols" / "botocore"


def vector_cases() -> list[tuple[str, dict]]:
    cases = []
    for name in ("rest-json.json", "query.json"):
        for suite in json.loads((VECTORS / "tests/unit/protocols/output" / name).read_text()):
            for case in suite["cases"]:
                if "errorCode" in case:
                    cases.append((case["id"], case))
    return cases


@pytest.mark.parametrize("case_id,case", vector_cases(), ids=[c[0] for c in vector_cases()])
def test_protocol_vectors(case_id: str, case: dict) -> None:
    response = case["response"]
    error = errors.parse_error(
        response["status_code"], response.get("headers", {}), response.get("body", "").encode()
    )
    assert isinstance(error, errors.UnknownServiceError)
    assert error.code == case["errorCode"]
    assert error.status == response["status_code"]
    if case.get("errorMessage"):
        assert error.message == case["errorMessage"]


@pytest.mark.parametrize(
    "status,headers,body,cls",
    [
        (
            404,
            {"x-amzn-ErrorType": "UserNotFoundException"},
            b'{"Message":"m"}',
            errors.UserNotFoundException,
        ),
        (
            409,
            {"X-Amzn-Errortype": "DuplicateResourceException:http://internal.amazon.com/x"},
            b'{"Message":"m"}',
            errors.DuplicateResourceException,
        ),
        (
            403,
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
            b'{"message":"m"}',
            errors.MissingAuthenticationTokenException,
        ),
        (429, {}, b"", errors.ThrottlingException),
        (
            400,
            {"Content-Type": "application/json"},
            b'{"__type":"com.amazon#InvalidRequestException"}',
            errors.InvalidRequestException,
        ),
        (
            403,
            {"Content-Type": "text/xml"},
            b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
            b"<Message>bad</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
            errors.UnrecognizedClientException,
        ),
        (
            403,
            {"Content-Type": "text/xml"},
            b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            b"<Code>SignatureDoesNotMatch</Code><Message>m</Message></Error></ErrorResponse>",
            errors.InvalidSignatureException,
        ),
        (502, {"Content-Type": "text/html"}, b"<html>bad gateway", errors.UnknownServiceError),
        (500, {}, b"not json at all", errors.UnknownServiceError),
    ],
)
def test_typed_errors_from_json_and_xml(
    status: int, headers: dict[str, str], body: bytes, cls: type[errors.ServiceError]
) -> None:
    error = errors.parse_error(status, headers, body)
    assert type(error) is cls
    assert error.status == status


def test_unknown_code_keeps_code_message_status_and_request_id() -> None:
    error = errors.parse_error(
        418,
        {"x-amzn-RequestId": "rid", "x-amzn-ErrorType": "Teapot"},
        b'{"message":"short and stout"}',
    )
    assert isinstance(error, errors.UnknownServiceError)
    assert (error.code, error.message, error.status, error.request_id) == (
        "Teapot",
        "short and stout",
        418,
        "rid",
    )
    assert not error.retryable
    assert errors.parse_error(503, {}, b"{}").retryable


def test_xml_request_id_is_read_from_the_body() -> None:
    error = errors.parse_error(
        400,
        {"Content-Type": "text/xml"},
        b"<ErrorResponse><Error><Code>X</Code><Message>m</Message>"
        b"</Error><RequestId>req-9</RequestId></ErrorResponse>",
    )
    assert error.request_id == "req-9"
