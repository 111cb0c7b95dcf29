"""wait_for_change notices changes made through the public API of another server process that
shares the PostgreSQL database (by polling the store), and returns at timeout otherwise."""

from __future__ import annotations

import asyncio
from pathlib import Path

from connectfed.clock import SystemClock
from connectfed.connect.agents import AgentService
from connectfed.store import open_store
from tests.conftest import postgres_or_skip
from tests.support.server import start_server
from tests.support.world import build_world


def test_a_waiter_wakes_on_put_user_status_made_by_another_server(tmp_path: Path) -> None:
    url = postgres_or_skip()
    server = start_server(tmp_path, "--throttle-rate", "0", database_url=url)
    store = open_store(url)
    try:
        world = build_world(server, "waits")
        connect = server.client("connect")
        iid = world.instance_id
        agent = next(
            u["Id"]
            for u in connect.list_users(InstanceId=iid)["UserSummaryList"]
            if u["Username"] == "agent1"
        )
        available = next(
            s["Id"]
            for s in connect.list_agent_statuses(InstanceId=iid)["AgentStatusSummaryList"]
            if s["Name"] == "Available"
        )
        agents = AgentService(store, SystemClock(), poll_interval=0.05)

        async def scenario() -> tuple[int, str, int]:
            quiet = await agents.wait_for_change(iid, agent, 0, timeout=0.2)
            waiting = asyncio.create_task(agents.wait_for_change(iid, agent, 0, timeout=60))
            await asyncio.sleep(0.1)
            assert not waiting.done()
            await asyncio.to_thread(
                connect.put_user_status, InstanceId=iid, UserId=agent, AgentStatusId=available
            )
            state = await waiting
            return quiet.version, state.status.name, state.version

        quiet_version, name, version = asyncio.run(scenario())
        assert quiet_version == 0  # the timeout returned the current (unchanged) state
        assert (name, version) == ("Available", 1)
    finally:
        store.close()
        server.stop()
