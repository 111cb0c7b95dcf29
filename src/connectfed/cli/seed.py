"""``connectfed seed WORLD.yaml...``: validate declared worlds and apply them to a database.

Exit status 0 when applied (or, with ``--check``, valid), 2 with every error found, each naming
``file:line:column: field``. Running servers on the same database see the changes within their
cache TTL (``serve --cache-ttl``, 2 s by default).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import platformdirs

from connectfed.cli.serve import master_key_source, private_data_dir
from connectfed.seed import Applied, Outcome, WorldInvalid, apply_world, parse_file
from connectfed.seed.schema import World
from connectfed.settings import Settings
from connectfed.store import MasterKeyError, Unavailable


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def _report(path: Path, applied: Applied) -> None:
    for change in applied.changes:
        _print(f"  {change}")
    created = {
        c.name.split()[0]
        for c in applied.changes
        if c.kind == "access key" and c.outcome is Outcome.CREATED
    }
    for account in applied.accounts.values():
        keys = [("root", k) for k in account.root_keys] + [
            (user, k) for user, user_keys in account.user_keys.items() for k in user_keys
        ]
        for owner, key in keys:
            if key.access_key_id in created:  # a generated secret is shown when created only
                _print(
                    f"  secret of {owner}'s new key {key.access_key_id}: {key.secret_access_key}"
                )
        for name, instance in account.instances.items():
            if name == instance.alias:
                _print(f"  instance {instance.alias}: {instance.instance_id}")
    if applied.changed:
        _print(f"{path}: applied ({applied.summary()})")
    else:
        _print(f"{path}: unchanged")


def seed(args: argparse.Namespace) -> int:
    worlds: list[tuple[Path, World]] = []
    failed = False
    for path in args.worlds:
        try:
            worlds.append((path, parse_file(path)))
        except WorldInvalid as exc:
            sys.stderr.write(f"{exc}\n")
            failed = True
    if failed:
        return 2
    if args.check:
        for path, _ in worlds:
            _print(f"{path}: valid")
        return 0
    os.umask(0o077)
    data_dir: Path = args.data_dir or Path(platformdirs.user_data_dir("connectfed"))
    try:
        private_data_dir(data_dir)
    except Unavailable as exc:
        _print(f"error: {exc}")
        return 2
    url = args.database_url or f"sqlite://{(data_dir / 'connectfed.db').resolve()}"
    settings = Settings(database_url=url, region=args.region, public_url=args.public_url)
    from connectfed.app import build_services

    try:
        services = build_services(settings, master_key=master_key_source(args, data_dir))
    except (MasterKeyError, Unavailable) as exc:
        _print(f"error: {exc}")
        return 2
    boot = services.bootstrap
    if boot.created:
        _print(f"Root credentials of the new account {boot.account_id} (shown once):")
        _print(f"  CONNECTFED_ROOT_ACCESS_KEY_ID={boot.root_access_key_id}")
        _print(f"  CONNECTFED_ROOT_SECRET_ACCESS_KEY={boot.root_secret_access_key}")
    try:
        for path, world in worlds:
            try:
                applied = apply_world(services, world)
            except WorldInvalid as exc:
                sys.stderr.write(f"{exc}\n")
                return 2
            _report(path, applied)
    finally:
        services.close()  # the audit events the world made are stored too
    return 0
