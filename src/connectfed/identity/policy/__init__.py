"""IAM policy language: parse documents, match actions/resources/principals, evaluate conditions.

Hand-written: no maintained Python library evaluates IAM policies (policyuniverse and parliament
lint or expand them; parliament is the tests' oracle for validation). Follows "Policy evaluation
logic" and "IAM JSON policy elements reference" of the IAM User Guide: explicit deny wins, then
any allow, else implicit deny. Documents are validated on write as IAM does (``validate``).
"""

from connectfed.identity.policy.document import (
    MalformedPolicy,
    PolicyDocument,
    parse_policy,
    parse_trust_policy,
)
from connectfed.identity.policy.evaluate import (
    Decision,
    RequestFacts,
    evaluate,
    statement_applies,
)
from connectfed.identity.policy.validate import PolicyKind, policy_size, validate_policy

__all__ = [
    "Decision",
    "MalformedPolicy",
    "PolicyDocument",
    "PolicyKind",
    "RequestFacts",
    "evaluate",
    "parse_policy",
    "parse_trust_policy",
    "policy_size",
    "statement_applies",
    "validate_policy",
]
