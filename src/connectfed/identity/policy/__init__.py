"""IAM policy language: parse documents, match actions/resources/principals, evaluate conditions.

Hand-written: no maintained Python library evaluates IAM policies (policyuniverse and parliament
lint or expand them). Follows "Policy evaluation logic" and "IAM JSON policy elements reference"
of the IAM User Guide: explicit deny wins, then any allow, else implicit deny.
"""

from connectfed.identity.policy.document import MalformedPolicy, PolicyDocument, parse_policy
from connectfed.identity.policy.evaluate import Decision, RequestFacts, evaluate

__all__ = [
    "Decision",
    "MalformedPolicy",
    "PolicyDocument",
    "RequestFacts",
    "evaluate",
    "parse_policy",
]
