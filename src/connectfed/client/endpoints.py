"""Amazon Connect's endpoint for a Region, as botocore resolves it (the ``connect`` endpoint rule
set over the partitions in botocore's ``partitions.json``), without importing botocore.

A Region belongs to the first partition that lists it or whose pattern it matches, else to
``aws``; the endpoint is ``https://connect[-fips].<region>.<suffix>``, the suffix being the
partition's DNS suffix or, with dual-stack, its dual-stack suffix. One exception in the rule set:
FIPS without dual-stack in GovCloud is ``connect.<region>.amazonaws.com`` (the standard endpoint
there is already FIPS validated). tests/e2e/test_client_endpoints.py holds this against botocore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    region_pattern: str
    dns_suffix: str
    dual_stack_dns_suffix: str
    global_region: str | None  # a pseudo-Region the partition lists outside its pattern


PARTITIONS = (
    Partition(
        "aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", "amazonaws.com", "api.aws", "aws-global"
    ),
    Partition(
        "aws-cn",
        r"^cn\-\w+\-\d+$",
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
        "aws-cn-global",
    ),
    Partition(
        "aws-eusc",
        r"^eusc\-(de)\-\w+\-\d+$",
        "amazonaws.eu",
        "api.amazonwebservices.eu",
        None,
    ),
    Partition("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", "api.aws.ic.gov", "aws-iso-global"),
    Partition(
        "aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov", "api.aws.scloud", "aws-iso-b-global"
    ),
    Partition(
        "aws-iso-e",
        r"^eu\-isoe\-\w+\-\d+$",
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
        "aws-iso-e-global",
    ),
    Partition(
        "aws-iso-f",
        r"^us\-isof\-\w+\-\d+$",
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
        "aws-iso-f-global",
    ),
    Partition(
        "aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws", "aws-us-gov-global"
    ),
)

# botocore.utils.validate_region_name: a Region must be a DNS host label.
_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$")


def valid_region(region: str) -> bool:
    return _REGION.match(region) is not None


def partition_of(region: str) -> Partition:
    for partition in PARTITIONS:
        if region == partition.global_region or re.match(partition.region_pattern, region):
            return partition
    return PARTITIONS[0]


def connect_endpoint(region: str, *, fips: bool = False, dual_stack: bool = False) -> str:
    """The URL botocore sends Amazon Connect's requests in ``region`` to."""
    partition = partition_of(region)
    suffix = partition.dual_stack_dns_suffix if dual_stack else partition.dns_suffix
    if fips and not dual_stack and partition.name == "aws-us-gov":
        return f"https://connect.{region}.amazonaws.com"
    return f"https://connect{'-fips' if fips else ''}.{region}.{suffix}"


_HOST = re.compile(r"^((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))$", re.IGNORECASE)


def endpoint_problem(url: str) -> str | None:
    """Why botocore would not send to ``url`` (its words), or None. A host must be a DNS name
    or an IP address; a scheme other than http and https is refused before anything is sent
    (a mistyped ``htps://`` went out in clear text to port 80)."""
    invalid = f"Invalid endpoint: {url}"
    if set(url) & {"\t", "\r", "\n"}:
        return invalid
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a port that is no number raises ValueError)
    except ValueError:
        return invalid
    if not host or len(host) > 255:
        return invalid
    if ":" in host:
        import ipaddress

        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return invalid
    elif not _HOST.match(host.removesuffix(".")):
        return invalid
    if parts.scheme not in ("http", "https"):
        return (
            f"An HTTP Client raised an unhandled exception: Not supported URL scheme {parts.scheme}"
        )
    return None
