"""The Amazon Connect CTI service model, read from the installed amazon-connect-streams package.

Streams' worker talks to ``AmazonConnectCTIService`` (JSON 1.0, ``X-Amz-Target:
AmazonConnectCTIService.<Op>``) through the AWS SDK for JavaScript v2 bundled in
``release/connect-streams.js``, which embeds the service model as a webpack module
``module.exports={"version":"2.0","metadata":{…"targetPrefix":"AmazonConnectCTIService"…}``.
We read that object (``json.JSONDecoder.raw_decode`` at its offset) at server start, so the wire
follows the exact Streams version installed, as the botocore models drive the public API.

The JS SDK's model format is botocore's, minified: shapes may be written inline (``{}`` is a
string, ``{"type": "long"}`` a long, nested structures inline) and named shapes get short names
(``S2``). :func:`to_botocore` hoists every inline shape to a named one so that
:class:`botocore.model.ServiceModel` — and with it our validation and JSON (de)serialisation —
works on it unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from botocore.model import ServiceModel

TARGET_PREFIX = "AmazonConnectCTIService"
BUNDLE = Path("release") / "connect-streams.js"
_MARKER = f'"targetPrefix":"{TARGET_PREFIX}"'
_EXPORTS = "module.exports="
# Where Streams' worker posts (<baseUrl>/api, or /connect/api on awsapps.com domains); the
# instance origin path comes first here: <public>/connect/<instance-id>/api. Every POST to it is
# the CTI API's, answered in its JSON 1.0 (refusals before the request is read whole included).
PATH = re.compile(r"^(?:/connect/([A-Za-z0-9_.:-]{1,100}))?(?:/connect)?/api/?$")


class ModelNotFound(Exception):
    """The package or the model inside it is missing; the message says what to do."""


def read_js_model(package_dir: Path) -> dict[str, Any]:
    """The raw JS SDK model embedded in ``<package_dir>/release/connect-streams.js``."""
    bundle = package_dir / BUNDLE
    try:
        text = bundle.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelNotFound(
            "amazon-connect-streams not installed: run scripts/bootstrap, or point --streams-dir "
            f"(CONNECTFED_STREAMS_DIR) at an npm install of it ({bundle}: {exc.strerror})"
        ) from None
    marker = text.find(_MARKER)
    start = text.rfind(_EXPORTS, 0, marker) if marker >= 0 else -1
    if start < 0:
        raise ModelNotFound(f"{bundle} holds no {TARGET_PREFIX} model")
    try:
        model, _ = json.JSONDecoder().raw_decode(text, start + len(_EXPORTS))
    except ValueError as exc:
        raise ModelNotFound(f"{bundle}: the {TARGET_PREFIX} model is not JSON: {exc}") from None
    if not isinstance(model, dict) or not isinstance(model.get("operations"), dict):
        raise ModelNotFound(f"{bundle}: the {TARGET_PREFIX} model has no operations")
    return model


class _Hoister:
    """Gives every inline shape a name, botocore style."""

    def __init__(self, shapes: dict[str, Any]) -> None:
        self.shapes: dict[str, Any] = {}
        self._source = shapes

    def named(self, name: str) -> str:
        if name not in self.shapes:
            self.shapes[name] = {}  # reserve first: recursive shapes
            self.shapes[name] = self._expand(self._source[name], name)
        return name

    def ref(self, shape: dict[str, Any], suggested: str) -> str:
        if "shape" in shape:
            return self.named(shape["shape"])
        body = dict(shape)
        body.setdefault("type", "string")
        if set(body) == {"type"}:  # a plain primitive: one shared shape per type
            name = f"__{body['type']}"
            self.shapes.setdefault(name, body)
            return name
        name = suggested
        while name in self.shapes or name in self._source:
            name += "_"
        self.shapes[name] = {}
        self.shapes[name] = self._expand(body, name)
        return name

    def _expand(self, shape: dict[str, Any], name: str) -> dict[str, Any]:
        body = dict(shape)
        body.setdefault("type", "string")
        kind = body["type"]
        if kind == "structure":
            body["members"] = {
                member: {"shape": self.ref(spec, f"{name}{member[:1].upper()}{member[1:]}")}
                for member, spec in body.get("members", {}).items()
            }
        elif kind == "list":
            body["member"] = {"shape": self.ref(body.get("member", {}), f"{name}Member")}
        elif kind == "map":
            body["key"] = {"shape": self.ref(body.get("key", {}), f"{name}Key")}
            body["value"] = {"shape": self.ref(body.get("value", {}), f"{name}Value")}
        return body


def to_botocore(js_model: dict[str, Any]) -> dict[str, Any]:
    """The JS SDK model as a botocore service description (every shape named)."""
    hoister = _Hoister(js_model.get("shapes", {}))
    operations: dict[str, Any] = {}
    for name, spec in js_model["operations"].items():
        operation: dict[str, Any] = {"name": name, "http": {"method": "POST", "requestUri": "/"}}
        if "input" in spec:
            operation["input"] = {"shape": hoister.ref(spec["input"], f"{name}Request")}
        if "output" in spec:
            operation["output"] = {"shape": hoister.ref(spec["output"], f"{name}Response")}
        operations[name] = operation
    metadata = dict(js_model.get("metadata", {}))
    metadata["protocol"] = "json"
    return {"metadata": metadata, "operations": operations, "shapes": hoister.shapes}


def load(package_dir: Path) -> ServiceModel:
    """The CTI service model of the installed Streams package (raises :class:`ModelNotFound`)."""
    return ServiceModel(to_botocore(read_js_model(package_dir)), service_name="connect-cti")
