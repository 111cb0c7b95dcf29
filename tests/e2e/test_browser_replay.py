"""The browser sign-in endpoint accepts an assertion once: concurrent double POSTs, and POSTs to
several servers sharing one PostgreSQL database, give exactly one success."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.conftest import postgres_or_skip
from tests.support.saml_world import build_saml_world, post_saml, saml_trust
from tests.support.server import Server, start_server


def race(servers: list[Server], assertion: str, attempts: int = 8) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(attempts)

    def attempt(index: int) -> None:
        barrier.wait()
        statuses.append(post_saml(servers[index % len(servers)], assertion).status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_concurrent_double_post_on_one_server(server: Server) -> None:
    saml = build_saml_world(server, "replay1")
    assert race([server], saml.assertion()) == [200] + [400] * 7


def test_replay_across_servers_sharing_postgres(tmp_path: Path) -> None:
    url = postgres_or_skip()
    first = start_server(tmp_path / "a", "--throttle-rate", "0", database_url=url)
    second = start_server(tmp_path / "b", "--throttle-rate", "0", database_url=url)
    try:
        saml = build_saml_world(first, "replay2")
        assert race([first, second], saml.assertion()) == [200] + [400] * 7
        # AssumeRoleWithSAML keeps AWS's behaviour: the same assertion is usable again.
        fresh = saml.assertion()
        assert post_saml(second, fresh).status == 200
        assert saml.assume(fresh)["Credentials"]["AccessKeyId"].startswith("ASIA")
    finally:
        first.stop()
        second.stop()


def test_a_refused_sign_in_still_spends_its_assertion(server: Server) -> None:
    saml = build_saml_world(server, "replay3")
    role = saml.role_arn.rsplit("/", 1)[1]
    iam = server.client("iam")
    iam.update_assume_role_policy(
        RoleName=role, PolicyDocument=saml_trust(saml.provider_arn, "https://elsewhere.example/")
    )
    assertion = saml.assertion()
    status, _, page = post_saml(server, assertion)
    assert status == 403 and "already been used" not in page
    # Trusted again, the same assertion is still refused: it was spent by the refusal.
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=saml_trust(saml.provider_arn))
    status, _, page = post_saml(server, assertion)
    assert status == 400 and "already been used" in page
    assert post_saml(server, saml.assertion()).status == 200
