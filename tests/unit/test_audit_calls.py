"""Which API calls the audit trail records, and CloudTrail's ``readOnly`` of each, held against
every operation the server registers: a new operation fails here until it is classified."""

from __future__ import annotations

import pytest

import connectfed.api  # noqa: F401  (registers every operation handler)
from connectfed.audit.calls import SELF_RECORDED, AuditedCalls, is_read_only
from connectfed.wire.registry import REGISTRY

READS = {
    ("sts", "GetCallerIdentity"),
    ("iam", "GetRole"),
    ("iam", "GetRolePolicy"),
    ("iam", "GetSAMLProvider"),
    ("iam", "GetUser"),
    ("iam", "GetUserPolicy"),
    ("iam", "ListAccessKeys"),
    ("iam", "ListRolePolicies"),
    ("iam", "ListRoleTags"),
    ("iam", "ListRoles"),
    ("iam", "ListSAMLProviderTags"),
    ("iam", "ListSAMLProviders"),
    ("iam", "ListUserPolicies"),
    ("iam", "ListUserTags"),
    ("iam", "ListUsers"),
    ("iam", "SimulateCustomPolicy"),
    ("iam", "SimulatePrincipalPolicy"),
    ("connect", "DescribeAgentStatus"),
    ("connect", "DescribeInstance"),
    ("connect", "DescribeQueue"),
    ("connect", "DescribeRoutingProfile"),
    ("connect", "DescribeUser"),
    ("connect", "GetCurrentUserData"),
    ("connect", "ListAgentStatuses"),
    ("connect", "ListInstances"),
    ("connect", "ListQueues"),
    ("connect", "ListRoutingProfileQueues"),
    ("connect", "ListRoutingProfiles"),
    ("connect", "ListSecurityProfiles"),
    ("connect", "ListTagsForResource"),
    ("connect", "ListUsers"),
    ("cloudtrail", "LookupEvents"),
}
WRITES = {
    ("sts", "AssumeRole"),
    ("sts", "AssumeRoleWithSAML"),
    ("iam", "CreateAccessKey"),
    ("iam", "CreateRole"),
    ("iam", "CreateSAMLProvider"),
    ("iam", "CreateUser"),
    ("iam", "DeleteAccessKey"),
    ("iam", "DeleteRole"),
    ("iam", "DeleteRolePolicy"),
    ("iam", "DeleteSAMLProvider"),
    ("iam", "DeleteUser"),
    ("iam", "DeleteUserPolicy"),
    ("iam", "PutRolePolicy"),
    ("iam", "PutUserPolicy"),
    ("iam", "TagSAMLProvider"),
    ("iam", "TagRole"),
    ("iam", "TagUser"),
    ("iam", "UntagRole"),
    ("iam", "UntagSAMLProvider"),
    ("iam", "UntagUser"),
    ("iam", "UpdateAccessKey"),
    ("iam", "UpdateAssumeRolePolicy"),
    ("iam", "UpdateSAMLProvider"),
    ("connect", "CreateAgentStatus"),
    ("connect", "CreateInstance"),
    ("connect", "CreateQueue"),
    ("connect", "CreateRoutingProfile"),
    ("connect", "CreateUser"),
    ("connect", "DeleteInstance"),
    ("connect", "DeleteUser"),
    ("connect", "GetFederationToken"),  # issues tokens, binds the role: named like a read
    ("connect", "PutUserStatus"),
    ("connect", "TagResource"),
    ("connect", "UntagResource"),
    ("connect", "UpdateAgentStatus"),
    ("connect", "UpdateUserIdentityInfo"),
    ("connect", "UpdateUserRoutingProfile"),
}
REGISTERED = sorted(REGISTRY.all())


def test_every_registered_operation_is_classified() -> None:
    assert set(REGISTERED) == READS | WRITES
    assert not READS & WRITES


@pytest.mark.parametrize(("service", "operation"), REGISTERED)
def test_read_only_rule(service: str, operation: str) -> None:
    assert is_read_only(operation) is ((service, operation) in READS)


@pytest.mark.parametrize(("service", "operation"), REGISTERED)
def test_writes_always_reads_only_when_asked(service: str, operation: str) -> None:
    own = (service, operation) in SELF_RECORDED
    write = (service, operation) in WRITES
    assert AuditedCalls(reads=False).records(service, operation) is (write and not own)
    assert AuditedCalls(reads=True).records(service, operation) is (not own)


def test_only_federation_and_saml_record_their_own_event() -> None:
    assert {("connect", "GetFederationToken"), ("sts", "AssumeRoleWithSAML")} == SELF_RECORDED
