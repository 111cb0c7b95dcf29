"""``/_connectfed/metrics`` after real traffic, read by prometheus_client's own parser: the
counts match what was done (requests by operation and status, latency, federations, sign-ins,
SAML rejections by reason, throttles)."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from urllib.parse import quote, urlencode

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support.saml_world import build_saml_world
from tests.support.server import Server, start_server
from tests.support.world import make_role


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose GetFederationToken quota is 4 calls and then (practically) none."""
    srv = start_server(
        tmp_path_factory.mktemp("metrics"), "--throttle-rate", "0.0001", "--throttle-burst", "4"
    )
    yield srv
    srv.stop()


def _scrape(server: Server) -> list[Sample]:
    with urllib.request.urlopen(server.url + "/_connectfed/metrics", timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.headers["x-amzn-RequestId"]
        text = response.read().decode()
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return sum(found)


def _post_saml(server: Server, assertion: str, relay: str) -> int:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    request = urllib.request.Request(
        server.url + "/saml",
        data=urlencode({"SAMLResponse": assertion, "RelayState": relay}).encode(),
    )
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_metrics_count_what_happened(throttled: Server) -> None:
    server = throttled
    saml = build_saml_world(server, "metrics")
    world = saml.world
    before = _scrape(server)
    assert _value(before, "connectfed_federations_total") == 0

    # The browser: one SAML sign-in through federate (a federation) to the instance, one
    # refused (expired assertion).
    relay = f"/connect/federate/{world.instance_id}?destination={quote('/ccp-v2')}"
    assert _post_saml(server, saml.assertion("agent2"), relay) == 200
    expired = saml.assertion("agent2", now=datetime.now(UTC) - timedelta(hours=1))
    assert _post_saml(server, expired, relay) == 400
    # The API: AssumeRoleWithSAML once, refused once; two federations, one denied, then the
    # quota (4) is spent and two are throttled.
    creds = saml.assume(saml.assertion("agent1"))["Credentials"]
    with pytest.raises(ClientError):
        saml.assume(saml.assertion("agent1", recipient="https://elsewhere.example/saml"))
    connect = server.client(
        "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    for _ in range(2):
        connect.get_federation_token(InstanceId=world.instance_id)
    denied = world.connect_as("agent2", make_role(server, "NoFederation", None))
    codes = []
    for client in (denied, connect, connect):
        with pytest.raises(ClientError) as caught:
            client.get_federation_token(InstanceId=world.instance_id)
        codes.append(caught.value.response["Error"]["Code"])
    assert codes == ["AccessDeniedException", "ThrottlingException", "ThrottlingException"]

    after = _scrape(server)
    federate = {"service": "connect", "operation": "GetFederationToken"}
    requests = "connectfed_requests_total"
    assert _value(after, requests, **federate, status="200") == 2
    assert _value(after, requests, **federate, status="403") == 1
    assert _value(after, requests, **federate, status="429") == 2
    saml_calls = {"service": "sts", "operation": "AssumeRoleWithSAML"}
    assert _value(after, requests, **saml_calls, status="200") == 1
    assert _value(after, requests, **saml_calls, status="400") == 1
    assert _value(after, "connectfed_throttled_requests_total", **federate) == 2
    assert _value(after, "connectfed_federations_total", outcome="issued") == 3
    assert _value(after, "connectfed_federations_total", outcome="failed") == 1
    assert _value(after, "connectfed_signins_total", kind="console", outcome="success") == 1
    assert _value(after, "connectfed_signins_total", kind="console", outcome="failure") == 1
    assert _value(after, "connectfed_signins_total", kind="instance", outcome="success") == 1
    assert _value(after, "connectfed_saml_rejections_total", reason="expired") == 1
    assert _value(after, "connectfed_saml_rejections_total", reason="destination") == 1
    assert _value(after, "connectfed_saml_rejections_total") == 2

    # The latency histogram saw each of those five calls; its buckets only grow.
    latency = "connectfed_request_duration_seconds"
    assert _value(after, latency + "_count", **federate) == 5
    assert _value(after, latency + "_sum", **federate) > 0
    buckets = sorted(
        (float(s.labels["le"]), s.value)
        for s in after
        if s.name == latency + "_bucket" and federate.items() <= s.labels.items()
    )
    assert buckets[-1] == (float("inf"), 5)
    assert all(a[1] <= b[1] for a, b in pairwise(buckets))
    # Requests no operation was routed to (pages, health) are "other", never a raw path.
    services = {s.labels["service"] for s in after if s.name == requests}
    assert services == {"connect", "sts", "iam", "other"}


def test_the_metrics_endpoint_only_reads(server: Server) -> None:
    request = urllib.request.Request(server.url + "/_connectfed/metrics", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 405
