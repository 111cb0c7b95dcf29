"""``connectfed serve``: build the app from options and run it under uvicorn.

Start-up order: options checked; the port bound (a taken port is one line, nothing else
happens); data directory, database and services; the demo dataset; uvicorn started on the bound
socket; and only once it accepts connections, the banner (credentials, commands) and ``READY``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import logging.config
import math
import os
import signal
import socket
import ssl
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import uvicorn

from connectfed.admin.access import AdminRefused, decide
from connectfed.app import Services, build_services, create_edge
from connectfed.cli.banner import Endpoint, demo_lines, server_lines, test_idp_lines
from connectfed.cli.workers import run_workers
from connectfed.demo import DEMO_USER, ensure_demo, ensure_demo_admin
from connectfed.seed import WorldInvalid, apply_world, parse_file
from connectfed.server.listener import ReadyServer, bind_error, open_listener
from connectfed.server.logs import LEVELS, logging_config
from connectfed.server.protocol import HeadLimits, bounded_protocol
from connectfed.settings import Settings
from connectfed.store import KeyFile, MasterKey, MasterKeyError, StaticKey, Unavailable
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
    """Create the data directory 0700, or tighten an existing one that is looser
    (:class:`Unavailable` when it cannot be made: a file of that name, no permission)."""
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise Unavailable(
            f"cannot use the data directory {data_dir}: {exc.strerror or exc}"
        ) from None
    mode = stat.S_IMODE(data_dir.stat().st_mode)
    if mode & 0o077:
        try:
            data_dir.chmod(0o700)
        except OSError as exc:  # another user's folder: its secrets would not be private
            raise Unavailable(
                f"cannot make the data directory {data_dir} private (mode {mode:o}, wanted "
                f"700): {exc.strerror or exc}; use a directory of this user's own"
            ) from None
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


def _uvicorn_config(
    app: Any,
    args: argparse.Namespace,
    settings: Settings,
    log_config: dict[str, object],
    tls: tuple[str | None, str | None],
) -> uvicorn.Config:
    """uvicorn with bounded request heads (server/protocol.py), idle keep-alive closed after
    ``keep_alive_seconds``, no WebSocket upgrades, and the redacting log configuration."""
    limits = HeadLimits(
        settings.max_header_bytes, settings.max_header_fields, settings.head_timeout_seconds
    )
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
        # With the admin API the app sends Date from the shifted clock (admin/edge.py).
        date_header=not settings.admin,
        # aws:SourceIp and aws:SecureTransport come from the connection itself: never let
        # X-Forwarded-For / X-Forwarded-Proto from a client rewrite them.
        proxy_headers=False,
        ssl_certfile=tls[0],
        ssl_keyfile=tls[1],
    )


# The numeric options and the least each may be (a negative rate or lifetime, or NaN, would be
# taken without a word and make the server misbehave later).
_NUMBER_RANGES = (
    ("--throttle-rate", 0),  # 0: off
    ("--throttle-burst", 1),
    ("--access-token-seconds", 1),
    ("--refresh-token-seconds", 1),
    ("--refresh-reuse-grace-seconds", 0),
    ("--token-gc-seconds", 0),
    ("--body-timeout", 0.001),
    ("--head-timeout", 0.001),
    ("--keep-alive-timeout", 0),
    ("--max-header-bytes", 1),
    ("--max-header-count", 1),
    ("--explain-keep-seconds", 0),
    ("--cache-ttl", 0),
    ("--audit-retention-days", 0),
    ("--audit-max-events", 0),  # 0: no count bound
)


def _usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the options alone (checked before the port is taken)."""
    if _explicit_levels(args.log_level_of) is None:
        return "--log-level-of takes LOGGER=LEVEL with a level of " + ", ".join(LEVELS)
    if bool(args.tls_cert) != bool(args.tls_key):
        return "--tls-cert and --tls-key go together"
    if args.test_idp and not (args.demo or args.seed):
        return "--test-idp needs --demo or a --seed world with a test_idp provider"
    if args.workers < 1 or args.store_threads < 1:
        return "--workers and --store-threads take a number from 1"
    for option, lowest in _NUMBER_RANGES:
        value = getattr(args, option.removeprefix("--").replace("-", "_"))
        if not (math.isfinite(value) and value >= lowest):
            return f"{option} takes a number from {lowest}, not {value}"
    if not 0 <= args.port <= 65535:
        return f"--port takes a port number from 0 to 65535, not {args.port}"
    if args.public_url is not None:
        parts = urlsplit(args.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return (
                "--public-url takes the http:// or https:// URL clients reach this server at, "
                f"not {args.public_url!r}"
            )
    return None


def serve(args: argparse.Namespace) -> int:
    problem = _usage_error(args)
    if problem is not None:
        _print(f"error: {problem}")
        return 2
    # The port first: taken, it is the one line printed, before any database is opened.
    try:
        listener = open_listener(args.host, args.port)
    except OSError as exc:
        _print(bind_error(args.host, args.port, exc))
        return 2
    try:
        return _serve(args, listener)
    finally:
        listener.close()


def _serve(args: argparse.Namespace, listener: socket.socket) -> int:
    explicit = _explicit_levels(args.log_level_of) or []
    log_config = logging_config(args.log_level, explicit, args.log_format)
    logging.config.dictConfig(log_config)  # before anything logs; uvicorn applies it again
    # Everything this server writes (database, WAL, keys, TLS material) is private to its user.
    os.umask(0o077)
    data_dir: Path = args.data_dir or Path(platformdirs.user_data_dir("connectfed"))
    try:
        private_data_dir(data_dir)
    except Unavailable as exc:
        _print(f"error: {exc}")
        return 2
    database_url = args.database_url or f"sqlite://{(data_dir / 'connectfed.db').resolve()}"
    certfile: str | None = None
    keyfile: str | None = None
    ca_bundle = None
    if args.tls_self_signed:
        ca_bundle, cert, key = write_self_signed(data_dir / "tls", args.host)
        certfile, keyfile = str(cert), str(key)
    elif args.tls_cert:
        certfile, keyfile = str(args.tls_cert), str(args.tls_key)
        try:  # what uvicorn does with them, now, so that a bad file is one line
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except OSError as exc:  # ssl.SSLError included
            _print(f"error: cannot load --tls-cert {certfile} and --tls-key {keyfile}: {exc}")
            return 2
    try:
        admin = decide(
            requested=args.admin, implied=args.demo, host=args.host, token=args.admin_token
        )
    except AdminRefused as exc:
        _print(f"error: {exc}")
        return 2
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
        admin=admin.enabled,
        admin_token=admin.token,
        # Declared worlds and tests: how long another process's changes may stay unseen.
        cache_ttl_seconds=args.cache_ttl,
        explain_keep_seconds=args.explain_keep_seconds,
        log_format=args.log_format,
        audit_retention_days=args.audit_retention_days,
        audit_max_events=args.audit_max_events,
        audit_reads=args.audit_reads,
        store_threads=args.store_threads,
        throttle_shared=args.throttle_shared,
    )
    try:
        master_key = master_key_source(args, data_dir)
        services = build_services(settings, master_key=master_key)
    except (MasterKeyError, Unavailable) as exc:
        _print(f"error: {exc}")
        return 2
    endpoint = Endpoint(public_url, settings.region, ca_bundle)
    lines = server_lines(endpoint, services.bootstrap)
    idp = None
    if args.demo:
        demo = ensure_demo(services, test_idp=args.test_idp)
        idp = demo.idp
        lines += demo_lines(
            endpoint,
            demo,
            ensure_demo_admin(services),
            _key_owner(services, demo.access_key_id, DEMO_USER),
            None if args.database_url else data_dir,
        )
    for seed in args.seed:
        try:
            applied = apply_world(services, parse_file(seed))
        except WorldInvalid as exc:
            _print(f"error: {seed} cannot be applied:\n{exc}")
            return 2
        lines.append(f"World {seed} applied: {applied.summary()}")
        idp = applied.test_idp or idp
    if args.test_idp:
        if idp is None:
            _print("error: --test-idp needs --demo or a --seed world with a test_idp provider")
            return 2
        lines += test_idp_lines(endpoint)
    if admin.enabled:
        lines.append(
            f"Admin API (time travel, faults): {public_url}/_connectfed/clock and "
            f"/_connectfed/faults{' (bearer token required)' if admin.token else ''}"
        )
    elif args.admin or args.demo:
        lines.append(f"Admin API {admin.reason}")
    if settings.admin:
        lines.append(
            f"Why was a request denied? {public_url}/_connectfed/explain/<request-id> "
            "(or: connectfed explain <request-id>)"
        )

    def ready() -> None:
        # Only now, with the server accepting connections, is any of it true.
        for line in [*lines, "READY"]:
            _print(line)
        if args.stop_when_stdin_closes:  # after forking workers: no thread may cross fork()
            _stop_when_stdin_closes()

    tls = (certfile, keyfile)

    def config(app: Any) -> uvicorn.Config:
        return _uvicorn_config(app, args, settings, log_config, tls)

    if args.workers == 1:
        server = ReadyServer(config(_settled(create_edge(services, idp))), ready)
        with _stopping_quietly():
            server.run(sockets=[listener])
        return 0 if server.started else 1
    # Each worker opens its own: nothing the parent opened (threads, connections) may cross
    # fork(). The test IdP's pages are plain data and are inherited as they are.
    services.close()
    return run_workers(
        args.workers,
        lambda: _settled(create_edge(build_services(settings, master_key=master_key), idp)),
        config,
        listener,
        ready,
    )


def _stop_when_stdin_closes() -> None:
    """SIGTERM this process (the server, or the ``--workers`` parent) once standard input ends:
    the process that started us with a pipe there has closed it, or died without stopping us
    (a test run killed before its teardown)."""

    def watch() -> None:
        with contextlib.suppress(OSError):  # no stdin at all: as closed
            while os.read(0, 65536):
                pass
        _log.info("standard input closed: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


@contextlib.contextmanager
def _stopping_quietly() -> Iterator[None]:
    """A SIGTERM or SIGINT ends the server as uvicorn ends it (no new connections, the requests
    under way answered), and then the command exits 0, as the ``--workers`` parent does.
    uvicorn raises the signal again once it has stopped, to the handler it found: with Python's
    default ones that was a death by SIGTERM and, for Ctrl-C, a KeyboardInterrupt traceback."""
    stopped = {
        signum: signal.signal(signum, lambda number, frame: None)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for signum, handler in stopped.items():
            signal.signal(signum, handler)


def _settled(app: Any) -> Any:
    """``app``, with everything alive now (the botocore models, the services, the app: some
    70,000 objects) moved out of the garbage collector's sight: they live as long as the server,
    and a full collection scanning them took 60-100 ms, the slowest requests' whole tail."""
    gc.collect()
    gc.freeze()
    return app


def _key_owner(services: Services, access_key_id: str, default: str) -> str:
    key = services.store.get_access_key(access_key_id)
    return key.user_name if key is not None and key.user_name else default
