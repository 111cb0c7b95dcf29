"""``connectfed serve``: build the app from options and run it under uvicorn."""

from __future__ import annotations

import argparse
import logging
import logging.config
import os
import stat
import sys
from pathlib import Path
from typing import Any

import platformdirs
import uvicorn

from connectfed.app import Services, build_services, create_edge
from connectfed.cli.workers import run_workers
from connectfed.demo import ensure_demo, ensure_test_idp
from connectfed.server.logs import LEVELS, logging_config
from connectfed.server.protocol import HeadLimits, bounded_protocol
from connectfed.settings import Settings
from connectfed.store import KeyFile, MasterKey, MasterKeyError, StaticKey
from connectfed.store.sealing import decode_key
from connectfed.tls import write_self_signed

_log = logging.getLogger("connectfed.serve")


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _url_host(host: str) -> str:
    """A host for URLs we hand out: a wildcard bind address is reached through loopback (use
    --public-url for other machines); IPv6 literals are bracketed."""
    if host in ("0.0.0.0", ""):  # noqa: S104
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def private_data_dir(data_dir: Path) -> None:
    """Create the data directory 0700, or tighten an existing one that is looser."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(data_dir.stat().st_mode)
    if mode & 0o077:
        data_dir.chmod(0o700)
        _log.warning("tightened permissions of data directory %s from %o to 700", data_dir, mode)


def master_key_source(args: argparse.Namespace, data_dir: Path) -> MasterKey:
    """The operator's key (env ``CONNECTFED_MASTER_KEY``, then ``--master-key-file``), else
    ``<data-dir>/master.key``."""
    env = os.environ.get("CONNECTFED_MASTER_KEY")
    if env:
        return StaticKey(decode_key(env, "CONNECTFED_MASTER_KEY"))
    return KeyFile(args.master_key_file or data_dir / "master.key")


def _explicit_levels(pairs: list[str]) -> list[tuple[str, str]] | None:
    levels = []
    for pair in pairs:
        name, _, level = pair.partition("=")
        if not name or level.lower() not in LEVELS:
            return None
        levels.append((name, level))
    return levels


def _run(app: Any, args: argparse.Namespace, settings: Settings,
         log_config: dict[str, object], certfile: str | None, keyfile: str | None) -> None:
    uvicorn.Server(_uvicorn_config(app, args, settings, log_config, certfile, keyfile)).run()


def _uvicorn_config(app: Any, args: argparse.Namespace, settings: Settings,
                    log_config: dict[str, object], certfile: str | None,
                    keyfile: str | None) -> uvicorn.Config:
    """uvicorn with bounded request heads (server/protocol.py), idle keep-alive closed after
    ``keep_alive_seconds``, no WebSocket upgrades, and the redacting log configuration."""
    limits = HeadLimits(settings.max_header_bytes, settings.max_header_fields,
                        settings.head_timeout_seconds)
    return uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        http=bounded_protocol(limits),
        ws="none",
        timeout_keep_alive=settings.keep_alive_seconds,
        log_config=log_config,
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="on",
        server_header=False,
        # aws:SourceIp and aws:SecureTransport come from the connection itself: never let
        # X-Forwarded-For / X-Forwarded-Proto from a client rewrite them.
        proxy_headers=False,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )


def serve(args: argparse.Namespace) -> int:
    explicit = _explicit_levels(args.log_level_of)
    if explicit is None:
        _print("error: --log-level-of takes LOGGER=LEVEL with a level of "
               + ", ".join(LEVELS))
        return 2
    log_config = logging_config(args.log_level, explicit)
    logging.config.dictConfig(log_config)  # before anything logs; uvicorn applies it again
    # Everything this server writes (database, WAL, keys, TLS material) is private to its user.
    os.umask(0o077)
    data_dir: Path = args.data_dir or Path(platformdirs.user_data_dir("connectfed"))
    private_data_dir(data_dir)
    database_url = args.database_url or f"sqlite://{(data_dir / 'connectfed.db').resolve()}"
    certfile: str | None = None
    keyfile: str | None = None
    ca_bundle = None
    if args.tls_self_signed:
        ca_bundle, cert, key = write_self_signed(data_dir / "tls", args.host)
        certfile, keyfile = str(cert), str(key)
    elif args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            _print("error: --tls-cert and --tls-key go together")
            return 2
        certfile, keyfile = str(args.tls_cert), str(args.tls_key)
    scheme = "https" if certfile else "http"
    public_url = args.public_url or f"{scheme}://{_url_host(args.host)}:{args.port}"
    settings = Settings(
        database_url=database_url,
        region=args.region,
        public_url=public_url,
        allow_multiple_roles_per_user=args.allow_multiple_roles_per_user,
        saml_single_use=args.saml_single_use,
        allow_saml_sha1=args.allow_saml_sha1,
        throttle_rate=args.throttle_rate,
        throttle_burst=args.throttle_burst,
        access_token_seconds=args.access_token_seconds,
        refresh_token_seconds=args.refresh_token_seconds,
        refresh_reuse_grace_seconds=args.refresh_reuse_grace_seconds,
        token_gc_seconds=args.token_gc_seconds,
        body_timeout_seconds=args.body_timeout,
        streams_dir=args.streams_dir,
        # The demo lets any page embed its CCP (examples/agent-desktop runs on another port).
        ccp_frame_ancestors=args.ccp_frame_ancestors or ("*" if args.demo else "'self'"),
        max_header_bytes=args.max_header_bytes,
        max_header_fields=args.max_header_count,
        head_timeout_seconds=args.head_timeout,
        keep_alive_seconds=args.keep_alive_timeout,
        store_threads=args.store_threads,
        throttle_shared=args.throttle_shared,
    )
    if args.workers < 1 or args.store_threads < 1:
        _print("error: --workers and --store-threads take a number from 1")
        return 2
    master_key = master_key_source(args, data_dir)
    try:
        services = build_services(settings, master_key=master_key)
    except MasterKeyError as exc:
        _print(f"error: {exc}")
        return 2
    boot = services.bootstrap
    _print(
        f"connectfed listening on {public_url} (region {settings.region}, "
        f"account {boot.account_id})"
    )
    if boot.created:
        _print("Root credentials (generated now, shown once):")
        _print(f"  CONNECTFED_ACCOUNT_ID={boot.account_id}")
        _print(f"  CONNECTFED_ROOT_ACCESS_KEY_ID={boot.root_access_key_id}")
        _print(f"  CONNECTFED_ROOT_SECRET_ACCESS_KEY={boot.root_secret_access_key}")
    if ca_bundle is not None:
        _print(f"CA bundle for clients: {ca_bundle}  (aws ... --ca-bundle {ca_bundle})")
    if args.demo:
        demo = ensure_demo(services)
        tls = f" --ca-bundle {ca_bundle}" if ca_bundle else ""
        ep = f"--endpoint-url {public_url} --region {settings.region}{tls}"
        _print("Demo dataset ready. Paste into a shell:")
        _print(f"  export AWS_ACCESS_KEY_ID={demo.access_key_id}")
        _print(f"  export AWS_SECRET_ACCESS_KEY={demo.secret_access_key}")
        _print("  unset AWS_SESSION_TOKEN AWS_PROFILE")
        _print(f"  aws sts assume-role --role-arn {demo.role_arn} --role-session-name agent1 {ep}")
        _print("  # export the returned AccessKeyId, SecretAccessKey and SessionToken as")
        _print("  # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, then:")
        _print(f"  aws connect get-federation-token --instance-id {demo.instance_id} {ep}")
        _print(f"CCP (after signing in): {public_url}/connect/{demo.instance_id}/ccp-v2/")
    if args.test_idp and not args.demo:
        _print("error: --test-idp needs --demo")
        return 2
    if args.test_idp:
        _print(f"Test IdP: open {public_url}/idp in a browser and pick a user")

    def app(services: Services) -> Any:
        idp = None
        if args.test_idp:
            idp = ensure_test_idp(services, ensure_demo(services), data_dir / "test-idp")
        return create_edge(services, idp)

    if args.workers == 1:
        edge = app(services)
        _print("READY")
        _run(edge, args, settings, log_config, certfile, keyfile)
        return 0
    services.store.close()  # each worker opens its own; no thread may run across fork()
    config = _uvicorn_config(None, args, settings, log_config, certfile, keyfile)
    sock = config.bind_socket()
    _print("READY")
    return run_workers(args.workers,
                       lambda: app(build_services(settings, master_key=master_key)), config, sock)
