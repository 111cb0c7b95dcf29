"""Validating a policy document on write, as IAM does (PutUserPolicy, PutRolePolicy, CreateRole,
UpdateAssumeRolePolicy, and STS session policies).

The checks, their order and their messages follow what IAM answers (the behaviour moto's IAM
validator was written against, and the IAM User Guide's "Grammar of the IAM JSON policy
language"): first syntax ("Syntax errors in policy." — not JSON, unknown elements, wrong types,
an unknown condition operator, ``Action`` with ``NotAction``), then "legacy parsing" (Effect's
exact case, condition values that cannot be read as their operator's type, malformed resource
ARNs), then unique Sids, present actions/resources/principals, resource ARN formats, action
vendors and, for trust policies, principals. A document that passes is returned parsed.

Policy size quotas (IAM and STS quotas page) are counted in non-whitespace characters; the
caller knows the owner and raises ``LimitExceeded`` with :func:`policy_size`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

from connectfed.identity.policy.conditions import VALUE_READERS, parse_operator
from connectfed.identity.policy.document import (
    SYNTAX,
    VERSIONS,
    MalformedPolicy,
    PolicyDocument,
    load_json,
    parse_policy,
)

LEGACY = "The policy failed legacy parsing"
TRUST_POLICY_QUOTA = 2048  # AssumeRolePolicySizeQuota ("Role trust policy length")
USER_POLICY_QUOTA = 2048  # UserPolicySizeQuota (aggregate of a user's inline policies)
ROLE_POLICY_QUOTA = 10240  # RolePolicySizeQuota (aggregate of a role's inline policies)

_TOP = frozenset({"Version", "Id", "Statement"})
_STATEMENT = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Principal",
        "NotPrincipal",
    }
)
_VENDOR = re.compile(r"[a-zA-Z0-9\-.]+")
_IAM_PATHS = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
_ACCOUNT = r"\d{12}"
_AWS_PRINCIPAL = re.compile(
    rf"\*|{_ACCOUNT}|(A[IR]OA|AIDA)[A-Z0-9]{{12,}}"
    rf"|arn:aws:iam::{_ACCOUNT}:(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+)"
    rf"|arn:aws:sts::{_ACCOUNT}:(assumed-role/[\w+=,.@-]+/[\w+=,.@-]+|federated-user/[\w+=,.@-]+)"
)
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?")
_FEDERATED_PRINCIPAL = re.compile(
    rf"arn:aws:iam::{_ACCOUNT}:(saml-provider/[\w+=,.@-]+|oidc-provider/[^\s*?]+)"
    r"|cognito-identity\.amazonaws\.com|www\.amazon\.com|graph\.facebook\.com"
    r"|accounts\.google\.com"
)
_CANONICAL_USER = re.compile(r"[0-9a-f]{64}")
_PRINCIPAL_FORMS = {
    "AWS": _AWS_PRINCIPAL,
    "Service": _SERVICE_PRINCIPAL,
    "Federated": _FEDERATED_PRINCIPAL,
    "CanonicalUser": _CANONICAL_USER,
}


class PolicyKind(enum.Enum):
    IDENTITY = "identity"  # inline user/role policies
    TRUST = "trust"  # a role's AssumeRolePolicyDocument
    SESSION = "session"  # the Policy parameter of AssumeRole


PrincipalExists = Callable[[str], bool]


def policy_size(text: str) -> int:
    """A document's size as IAM counts it against its quotas: non-whitespace characters."""
    return sum(1 for ch in text if not ch.isspace())


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


def _strings_or_empty(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_syntax(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, dict) or not set(raw) <= _TOP:
        raise MalformedPolicy(SYNTAX)
    if "Version" in raw and raw["Version"] not in VERSIONS:
        raise MalformedPolicy(SYNTAX)
    if "Id" in raw and not isinstance(raw["Id"], str):
        raise MalformedPolicy(SYNTAX)
    statements = raw.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy(SYNTAX)
    for statement in statements:
        if not isinstance(statement, dict) or not set(statement) <= _STATEMENT:
            raise MalformedPolicy(SYNTAX)
        if (
            ("Action" in statement and "NotAction" in statement)
            or ("Resource" in statement and "NotResource" in statement)
            or ("Principal" in statement and "NotPrincipal" in statement)
        ):
            raise MalformedPolicy(SYNTAX)
        effect = statement.get("Effect")
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            raise MalformedPolicy(SYNTAX)
        for element in ("Action", "NotAction", "Resource", "NotResource"):
            if element in statement and not _strings_or_empty(statement[element]):
                raise MalformedPolicy(SYNTAX)
        if "Sid" in statement and not isinstance(statement["Sid"], str):
            raise MalformedPolicy(SYNTAX)
        _check_condition_syntax(statement.get("Condition", {}))
    return statements


def _check_condition_syntax(block: Any) -> None:
    if not isinstance(block, dict):
        raise MalformedPolicy(SYNTAX)
    for name, keys in block.items():
        if not isinstance(keys, dict):
            raise MalformedPolicy(SYNTAX)
        for value in keys.values():
            if not all(_is_scalar(v) for v in _as_list(value)):
                raise MalformedPolicy(SYNTAX)
        # IAM accepts an unknown operator only with an empty block (it then constrains nothing).
        if keys and parse_operator(name) is None:
            raise MalformedPolicy(SYNTAX)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_legacy(statements: list[dict[str, Any]], version: str) -> str | None:
    """Raise on what fails IAM's legacy parsing; return the resource format error IAM reports
    (the last found, resources taken in reverse order) only after the actions and resources are
    known to be present."""
    for statement in statements:
        if statement["Effect"] not in ("Allow", "Deny"):  # case-sensitive here
            raise MalformedPolicy(LEGACY)
        for name, keys in statement.get("Condition", {}).items():
            operator = parse_operator(name)
            reader = VALUE_READERS.get(operator.base) if operator else None
            if reader is None:
                continue
            for value in keys.values():
                for item in _as_list(value):
                    text = _scalar_text(item)
                    if version == "2012-10-17" and "${" in text:
                        continue  # a policy variable: read at evaluation
                    if reader(text) is None:
                        raise MalformedPolicy(LEGACY)
    error: str | None = None
    for statement in statements:
        for element in ("Resource", "NotResource"):
            resources = _as_list(statement.get(element, []))
            for resource in sorted(resources, reverse=True):
                error = _resource_error(resource) or error
            if error is None:
                for resource in resources:
                    if resource != "*" and (
                        (resource.count(":") < 5 and "::" in resource)
                        or (resource.count(":") >= 2 and resource.split(":")[2] == "")
                    ):
                        raise MalformedPolicy(LEGACY)
    return error


def _resource_error(resource: str) -> str | None:
    """IAM's message for a resource that is not ``*`` or a well-formed ARN, else None."""
    if resource == "*":
        return None
    if ":" not in resource:
        return f'Resource {resource} must be in ARN format or "*".'
    parts = resource.split(":")
    if parts[1] != "aws":
        rest = parts[2:]
        shown = [
            rest[0] if rest and (rest[0] != "" or len(rest) > 1) else "*",
            rest[1] if len(rest) > 1 else "*",
            rest[2] if len(rest) > 2 else "*",
            ":".join(rest[3:]) if len(rest) > 3 else "*",
        ]
        shown_arn = f"arn:{parts[1]}:" + ":".join(shown)
        return f'Partition "{parts[1]}" is not valid for resource "{shown_arn}".'
    if len(parts) < 3:
        return "Resource vendor must be fully qualified and cannot contain regexes."
    service = parts[2]
    region = parts[3] if len(parts) > 3 else ""
    if service == "iam" and region:
        return f"IAM resource {resource} cannot contain region information."
    if service == "s3" and region and len(parts) > 4 and parts[4] == "":
        # A bucket or object ARN (no account); access points and the like carry a Region.
        return f"Resource {resource} can not contain region information."
    if service == "iam" and len(parts) > 5:
        path = ":".join(parts[5:])
        if path != "*" and not path.startswith(_IAM_PATHS):
            return (
                'IAM resource path must either be "*" or start with ' + ", ".join(_IAM_PATHS) + "."
            )
    return None


def _check_action(action: str) -> None:
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        raise MalformedPolicy(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        )
    if len(parts) > 2:
        raise MalformedPolicy("Actions/Condition can contain only one colon.")
    if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
        raise MalformedPolicy(f"Vendor {parts[0]} is not valid")


def _check_principal(value: Any, exists: PrincipalExists | None) -> None:
    if value == "*":
        return
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy(SYNTAX)
    for kind, ids in value.items():
        form = _PRINCIPAL_FORMS.get(kind)
        if not _strings_or_empty(ids) or not _as_list(ids):
            raise MalformedPolicy(SYNTAX)
        for principal in _as_list(ids):
            invalid = MalformedPolicy(f'Invalid principal in policy: "{kind}":"{principal}"')
            if form is None or not form.fullmatch(principal):
                raise invalid
            if kind == "AWS" and exists is not None and not exists(principal):
                raise invalid


def validate_policy(
    text: str, kind: PolicyKind, *, principal_exists: PrincipalExists | None = None
) -> PolicyDocument:
    """Validate ``text`` as IAM does for ``kind``; return it parsed or raise MalformedPolicy.

    ``principal_exists`` (trust policies) answers whether an ``AWS`` principal that names an
    entity of this account exists; IAM refuses a trust policy naming one that does not.
    """
    raw = load_json(text)
    statements = _check_syntax(raw)
    trust = kind is PolicyKind.TRUST
    for statement in statements:
        has_principal = "Principal" in statement or "NotPrincipal" in statement
        has_resource = "Resource" in statement or "NotResource" in statement
        if trust and has_resource:
            raise MalformedPolicy("Has prohibited field Resource.")
        if trust and not has_principal:
            raise MalformedPolicy("Missing required field Principal")
        if not trust and has_principal:
            raise MalformedPolicy("Policy document should not specify a principal.")
    resource_error = _check_legacy(statements, raw.get("Version", "2008-10-17"))
    sids = [s["Sid"] for s in statements if s.get("Sid")]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique.")
    for statement in statements:
        if not _as_list(statement.get("Action", statement.get("NotAction", []))):
            raise MalformedPolicy("Policy statement must contain actions.")
    for statement in statements:
        if not trust and not _as_list(statement.get("Resource", statement.get("NotResource", []))):
            raise MalformedPolicy("Policy statement must contain resources.")
    if resource_error is not None:
        raise MalformedPolicy(resource_error)
    for statement in statements:
        for action in _as_list(statement.get("Action", statement.get("NotAction", []))):
            _check_action(action)
    if trust:
        for statement in statements:
            _check_principal(
                statement.get("Principal", statement.get("NotPrincipal")), principal_exists
            )
    return parse_policy(text, trust=trust)
