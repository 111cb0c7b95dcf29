"""A declared world: a YAML file of accounts, IAM users and keys, roles, SAML providers and
Connect instances, validated with errors that name the line and field, and applied idempotently
through the domain services (``connectfed seed``, ``connectfed serve --seed``, the pytest plugin,
the demo). The schema is documented in docs/seed.md.

It builds on the composition root's services (``connectfed.app.Services``); no domain package
imports it.
"""

from __future__ import annotations

from connectfed.seed.apply import apply_world
from connectfed.seed.parse import parse, parse_file
from connectfed.seed.result import Applied, Change, Outcome
from connectfed.seed.source import SeedError, Where, WorldInvalid

__all__ = [
    "Applied",
    "Change",
    "Outcome",
    "SeedError",
    "Where",
    "WorldInvalid",
    "apply_world",
    "parse",
    "parse_file",
]
