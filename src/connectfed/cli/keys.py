"""``connectfed rotate-token-key``: make a new token key current.

Tokens are stored as keyed hashes with the id of their key (:mod:`connectfed.tokens.keys`);
after a rotation new tokens are hashed with the new key while tokens hashed with the previous
ones keep verifying until they expire, when the old keys are dropped. Running servers sharing
the database pick the new key up within their cache TTL (at once for tokens they cannot find).
The token key is stored sealed, so this command needs the servers' master key, found as
``serve`` finds it (``CONNECTFED_MASTER_KEY``, ``--master-key-file``, ``<data-dir>/master.key``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import platformdirs

from connectfed.cli.serve import master_key_source
from connectfed.clock import SystemClock
from connectfed.store import MasterKeyError, Unavailable, open_store
from connectfed.tokens import TokenKeys


def rotate_token_key(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or Path(platformdirs.user_data_dir("connectfed"))
    url = args.database_url or f"sqlite://{(data_dir / 'connectfed.db').resolve()}"
    if (
        url.startswith("sqlite:")
        and not (data_dir / "connectfed.db").exists()
        and not args.database_url
    ):
        sys.stdout.write(f"error: no database at {data_dir / 'connectfed.db'}\n")
        return 2
    try:
        store = open_store(url, master_key_source(args, data_dir))
        try:
            keys = TokenKeys(store, SystemClock(), ttl=0)
            key = keys.rotate()
            retired = ", ".join(k.key_id for k in keys.ring().keys[1:]) or "none"
        finally:
            store.close()
    except (MasterKeyError, Unavailable) as exc:
        sys.stdout.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(f"token key {key.key_id} is now current (still verifying: {retired})\n")
    return 0
