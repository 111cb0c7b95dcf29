"""The complete SQL store: every concept's statements over one backend :class:`Database`."""

from __future__ import annotations

from connectfed.store.sql_admin import AdminStatements
from connectfed.store.sql_agents import AgentStatements
from connectfed.store.sql_audit import AuditStatements
from connectfed.store.sql_connect import ConnectStatements
from connectfed.store.sql_decisions import DecisionStatements
from connectfed.store.sql_identity import IdentityStatements
from connectfed.store.sql_tags import TagStatements
from connectfed.store.sql_throttle import ThrottleStatements
from connectfed.store.sql_tokens import TokenStatements


class SqlStore(
    IdentityStatements,
    TagStatements,
    ConnectStatements,
    AgentStatements,
    TokenStatements,
    AdminStatements,
    DecisionStatements,
    AuditStatements,
    ThrottleStatements,
):
    """Every store method, in SQL, over a backend's :class:`~connectfed.store.sql.Database`."""
