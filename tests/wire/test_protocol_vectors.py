"""The server's restJson1 and awsQuery code held against the Smithy protocol tests, in
botocore's rendering (``tests/vectors/protocols/botocore``), both ways:

* **Output.** Each case's expected result, serialised by our code, must parse back to that
  result with botocore's own parser (what boto3 and the AWS CLI run).
* **Input.** Each case's request, as botocore serialises it, must parse with our code to the
  parameters the client was given.

The cases come with their own service models (shapes, traits, operations); our code reads them as
it reads Connect's, IAM's and STS's, so these cover traits no operation we serve uses yet too.
The cases botocore itself leaves out (its ``protocol-tests-ignore-list.json``) are not run, nor the
few that test what a server never sees or does (listed below, each with its reason);
``test_the_cases_left_out_are_accounted`` keeps that list exact.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore import parsers
from botocore.awsrequest import HeadersDict
from botocore.model import OperationModel, ServiceModel, Shape

from connectfed.errors import client_error
from connectfed.wire import query, restjson

VECTORS = Path(__file__).resolve().parents[1] / "vectors/protocols/botocore/tests/unit/protocols"
NAMESPACE = "https://example.com/"
PROTOCOLS = {"query": "query.json", "rest-json": "rest-json.json"}

# Cases that test what a server never sees or does, by the client's choice alone (besides those
# botocore skips too: request compression, an unset union payload, ...).
NOT_A_SERVER_CONCERN = {
    # A map of the headers with an empty prefix takes every header of an answer (Date,
    # x-amzn-RequestId, Content-Type, ...): the case lists two, which no real answer has alone.
    "HttpPrefixHeadersResponse": "no real answer has only the headers it lists",
}


def _ignored() -> dict[str, set[str]]:
    document = json.loads((VECTORS / "protocol-tests-ignore-list.json").read_text())
    suites = set(document["general"]["input"]["suites"])
    by_direction: dict[str, set[str]] = {"input": set(), "output": set(), "suites": suites}
    for protocol in PROTOCOLS:
        for direction in ("input", "output"):
            found = document["protocols"].get(protocol, {}).get(direction, {})
            by_direction[direction].update(found.get("cases", []))
    return by_direction


IGNORED = _ignored()


def _all_cases(direction: str) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for protocol, name in PROTOCOLS.items():
        for suite in json.loads((VECTORS / direction / name).read_text()):
            for case in suite["cases"]:
                yield protocol, suite, case


def _left_out(suite: dict[str, Any], case: dict[str, Any], direction: str) -> str | None:
    """Why a case is not run (None: it is): botocore's own ignore list, a case that tests what
    a server never sees, an error with members our errors never carry."""
    if case["id"] in IGNORED[direction] or suite["description"] in IGNORED["suites"]:
        return "botocore's own protocol tests leave it out (their ignore list)"
    if case["id"] in NOT_A_SERVER_CONCERN:
        return NOT_A_SERVER_CONCERN[case["id"]]
    if set(case.get("error") or {}) - {"Message"}:
        return "an error with members besides its message (no error we send has them)"
    return None


def _cases(direction: str) -> list[Any]:
    """The cases run (the others are accounted for by test_the_cases_left_out_are_accounted)."""
    return [
        pytest.param(protocol, suite, case, id=f"{protocol}:{case['id']}")
        for protocol, suite, case in _all_cases(direction)
        if _left_out(suite, case, direction) is None
    ]


def _operation(protocol: str, suite: dict[str, Any], case: dict[str, Any]) -> OperationModel:
    given = dict(case["given"])
    if protocol == "query" and "output" in given:
        # Every awsQuery model names its result wrapper (<OpResult>), as IAM's and STS's do;
        # the rendering of the Smithy tests leaves it implicit.
        given["output"] = {"resultWrapper": f"{given['name']}Result", **given["output"]}
    model = {
        "metadata": suite["metadata"],
        "shapes": suite["shapes"],
        "operations": {given["name"]: given},
    }
    return ServiceModel(model).operation_model(given["name"])


def _domain(shape: Shape, value: Any) -> Any:
    """A vector's value as a handler returns it (datetimes, bytes, floats)."""
    if value is None or getattr(shape, "is_document_type", False):
        return value
    kind = shape.type_name
    if kind == "structure":
        return {k: _domain(shape.members[k], v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "list":
        return [_domain(shape.member, v) for v in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {k: _domain(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return datetime.fromtimestamp(value).astimezone()
    if kind == "blob":
        return value.encode() if isinstance(value, str) else value
    if kind in ("float", "double"):
        return float(value)  # (float() reads "NaN", "Infinity" and "-Infinity" too)
    return value


def _comparable(shape: Shape | None, value: Any) -> Any:
    """A value as the vectors write it: epoch seconds, text for blobs, "NaN" for NaN; members
    a client leaves out (None, empty collections it does not send) left out."""
    if shape is None or value is None or getattr(shape, "is_document_type", False):
        return value
    kind = shape.type_name
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        out = {k: _comparable(members[k], v) for k, v in value.items() if k in members}
        return {k: v for k, v in out.items() if v is not None}
    if kind == "list":
        return [_comparable(shape.member, v) for v in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {k: _comparable(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return value.timestamp() if isinstance(value, datetime) else float(value)
    if kind == "blob":
        return value.decode() if isinstance(value, bytes | bytearray) else value
    if kind in ("float", "double"):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        return number if math.isfinite(number) else ("Infinity" if number > 0 else "-Infinity")
    return value


def _without_unsent(protocol: str, shape: Shape | None, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a request carries: a client sends no empty list or map in a query
    string or header, and no empty map in an awsQuery form."""
    if shape is None:
        return params
    kept = {}
    for name, value in params.items():
        member = shape.members[name]  # type: ignore[attr-defined]
        unsent = member.serialization.get("location") in ("querystring", "header", "headers")
        if value is None or (unsent and value in ([], {})):
            continue
        if protocol == "query" and value == {} and member.type_name == "map":
            continue
        kept[name] = value
    return kept


def _server_side(shape: Shape | None, params: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Where a server reads more than the client's parameters, by Smithy's rules: a query
    parameters map holds every parameter, named ones too ("servers put all query params in
    map"), and a structure payload sent as ``{}`` is an empty structure. Checked, then set
    aside (in ``params``) for the comparison of the rest."""
    if shape is None:
        return
    for name, member in shape.members.items():  # type: ignore[attr-defined]
        location = member.serialization.get("location")
        if location == "querystring" and member.type_name == "map" and name in params:
            assert params[name].items() >= wanted.get(name, {}).items()
            params[name] = wanted.get(name)
        if shape.serialization.get("payload") == name and name not in wanted:
            assert params.pop(name, {}) == {}
    for name in [n for n, v in params.items() if v is None]:
        del params[name]


@pytest.mark.parametrize(("protocol", "suite", "case"), _cases("output"))
def test_our_answers_parse_back_with_botocore(
    protocol: str, suite: dict[str, Any], case: dict[str, Any]
) -> None:
    operation = _operation(protocol, suite, case)
    parser = parsers.create_parser(protocol)
    if "error" in case:
        # Our errors carry a code and a message (no modelled error has other members).
        error = client_error(
            case["errorCode"], case["error"].get("Message", ""), case["response"]["status_code"]
        )
        if protocol == "query":
            status, headers, body = query.serialize_error(error, NAMESPACE, "request-id")
        else:
            status, headers, body = restjson.serialize_error(error)
        shape = next(
            s
            for s in operation.error_shapes
            if s.metadata.get("error", {}).get("code", s.name) == case["errorCode"]
        )
        response = {"status_code": status, "headers": HeadersDict(headers), "body": body}
        # As botocore's client does: the error's code and message, then its modelled members.
        parsed = parser.parse(response, operation.output_shape)
        assert parsed["Error"]["Code"] == case["errorCode"]
        assert parsed["Error"].get("Message", "") == case["error"].get("Message", "")
        assert parsed["ResponseMetadata"]["HTTPStatusCode"] == case["response"]["status_code"]
        modelled = parser.parse(response, shape)
        assert {k: v for k, v in modelled.items() if k in case["error"]} == case["error"]
        return
    shape = operation.output_shape
    result = _domain(shape, case["result"]) if shape is not None else None
    if protocol == "query":
        status, headers, body = query.serialize_output(operation, NAMESPACE, result, "request-id")
    else:
        status, headers, body = restjson.serialize_output(operation, result)
    response = {"status_code": status, "headers": HeadersDict(headers), "body": body}
    parsed = parser.parse(response, shape)
    parsed.pop("ResponseMetadata", None)
    assert _comparable(shape, parsed) == _comparable(shape, case["result"])


@pytest.mark.parametrize(("protocol", "suite", "case"), _cases("input"))
def test_requests_as_botocore_sends_them_parse_to_their_parameters(
    protocol: str, suite: dict[str, Any], case: dict[str, Any]
) -> None:
    operation = _operation(protocol, suite, case)
    sent = case["serialized"]
    body = sent.get("body", "").encode()
    if protocol == "query":
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        assert form.pop("Action") == operation.name
        form.pop("Version")
        params = query.parse_input(operation, form)
    else:
        target = urlsplit(sent["uri"])
        query_params: dict[str, list[str]] = {}
        for key, value in parse_qsl(target.query, keep_blank_values=True):
            query_params.setdefault(key, []).append(value)
        found = restjson.Router([operation]).match(sent["method"], target.path, query_params)
        assert found is not None, f"no route for {sent['method']} {sent['uri']}"
        headers = {k.lower(): v for k, v in sent.get("headers", {}).items()}
        params = restjson.parse_input(operation, found[1], query_params, headers, body)
    shape = operation.input_shape
    wanted = _without_unsent(protocol, shape, case["params"])
    _server_side(shape, params, wanted)
    token = next(
        (
            n
            for n, m in (shape.members.items() if shape else ())
            if m.metadata.get("idempotencyToken")
        ),
        None,
    )
    if token is not None and token not in wanted:
        params.pop(token, None)  # the client filled one in (a fresh UUID): nothing to compare
    assert _comparable(shape, params) == _comparable(shape, wanted)


def test_every_case_of_the_vectors_is_collected() -> None:
    """The vectors are read whole: a file that moved or changed shape fails here, not by
    collecting nothing."""
    counts = {d: sum(1 for _ in _cases(d)) for d in ("input", "output")}
    assert counts["input"] > 100 and counts["output"] > 100, counts


def test_a_blob_in_an_xml_answer_is_base64() -> None:
    """(One the vectors show only through botocore's decoding: the bytes on the wire.)"""
    suite = next(
        s
        for s in json.loads((VECTORS / "output/query.json").read_text())
        if any(c["id"] == "QueryXmlBlobs" for c in s["cases"])
    )
    case = next(c for c in suite["cases"] if c["id"] == "QueryXmlBlobs")
    operation = _operation("query", suite, case)
    _, _, body = query.serialize_output(operation, NAMESPACE, {"data": b"value"}, "request-id")
    assert f"<data>{base64.b64encode(b'value').decode()}</data>".encode() in body


def test_the_cases_left_out_are_accounted() -> None:
    """Every case not run is left out for a stated reason, and the ones listed here exist."""
    left = {
        (direction, case["id"]): _left_out(suite, case, direction)
        for direction in ("input", "output")
        for _, suite, case in _all_cases(direction)
        if _left_out(suite, case, direction) is not None
    }
    ignored = [k for k, why in left.items() if why and why.startswith("botocore's own")]
    assert len(ignored) == 29, sorted(left)
    assert ("output", "HttpPrefixHeadersResponse") in left
    assert ("output", "RestJsonComplexErrorWithNoMessage") in left  # an error with members
    assert len(left) == 31, sorted(left)
