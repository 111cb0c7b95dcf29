"""The AWS JSON protocols (awsJson1_0, awsJson1_1), server side, driven by botocore models.

A request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and the whole input
as one JSON document (Content-Type ``application/x-amz-json-1.0`` or ``-1.1``); the output is
one JSON document of the output shape. The two versions differ only in their content type
(Smithy, "AWS JSON 1.0 protocol" / "AWS JSON 1.1 protocol"). Timestamps are epoch seconds, as
in restJson1 bodies, so the body encoding is shared with :mod:`connectfed.wire.restjson`.
Errors carry ``x-amzn-ErrorType`` and a body ``{"__type": <code>, "message": …}``, which is what
botocore's JSON error parser (and the AWS SDK for JavaScript) read.

Used for CloudTrail (JSON 1.1) by the dispatcher; the CTI API (JSON 1.0, a model shipped with
Streams) shares :func:`serialize_error`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.model import OperationModel, ServiceModel

from connectfed import jsonsafe
from connectfed.errors import ServiceError, client_error
from connectfed.wire import restjson

# The first failing member in connectfed.wire.validate's message: "... at 'maxResults' ...".
_FIRST_PATH = re.compile(r" at '([A-Za-z0-9]+)")


def content_type(version: str) -> str:
    return f"application/x-amz-json-{version}"


def operation_name(model: ServiceModel, target: str | None) -> str | None:
    """The operation ``X-Amz-Target`` names for ``model``, or None when it names none of its
    operations. The model's full prefix (``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101``,
    what botocore sends) and its last part (``CloudTrail_20131101``) are both accepted."""
    prefix, _, name = (target or "").rpartition(".")
    full = model.metadata.get("targetPrefix", "")
    if prefix not in (full, full.rpartition(".")[2]) or name not in model.operation_names:
        return None
    return name


def targets(model: ServiceModel, target: str | None) -> bool:
    """True when ``target`` is addressed to ``model``'s service (a known operation or not)."""
    prefix = (target or "").rpartition(".")[0]
    full = model.metadata.get("targetPrefix", "")
    return bool(prefix) and prefix in (full, full.rpartition(".")[2])


def parse_input(operation: OperationModel, body: bytes) -> dict[str, Any]:
    """The input document read as the operation's input shape (an empty body is ``{}``)."""
    shape = operation.input_shape
    if shape is None:
        return {}
    try:
        document = jsonsafe.loads(body) if body.strip() else {}
    except jsonsafe.JsonTooDeep:
        raise restjson.SerializationError("Request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise restjson.SerializationError("Request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise restjson.SerializationError("Request body must be a JSON object")
    params = restjson.read_json(shape, document)
    assert isinstance(params, dict)
    return params


def serialize_output(
    operation: OperationModel, result: dict[str, Any] | None, version: str
) -> tuple[int, dict[str, str], bytes]:
    shape = operation.output_shape
    document = {} if shape is None or result is None else restjson.write_json(shape, result)
    body = json.dumps(document, separators=(",", ":")).encode()
    return 200, {"Content-Type": content_type(version)}, body


def serialize_error(error: ServiceError, version: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": content_type(version), "x-amzn-ErrorType": error.code}
    body = json.dumps({"__type": error.code, "message": error.message}, separators=(",", ":"))
    return error.status, headers, body.encode()


def validation_error(operation: OperationModel, message: str) -> ServiceError:
    """A constraint failure: the operation's own ``Invalid<Member>Exception`` for the first
    member that failed when the model has one (CloudTrail's ``InvalidMaxResultsException``,
    ``InvalidLookupAttributesException``), else ``ValidationException`` (400)."""
    found = _FIRST_PATH.search(message)
    if found is not None:
        member = found.group(1)
        code = f"Invalid{member[:1].upper()}{member[1:]}Exception"
        if any(shape.name == code for shape in operation.error_shapes):
            return client_error(code, message)
    return client_error("ValidationException", message)
