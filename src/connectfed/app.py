"""Composition root: settings -> store -> services -> dispatcher -> ASGI app.

The ASGI layer is deliberately thin: it reads the request (bounded body), hands the raw path,
query, headers and body to the :class:`~connectfed.wire.dispatch.Dispatcher`, and writes the
response. Requests that must read or write the store are answered in the store's threads
(:mod:`connectfed.offload`), so the event loop never waits for storage; the few answered from
memory alone (a storeless operation signed with cached credentials, the health endpoint) are
answered on the event loop, sparing them the hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import connectfed.api  # noqa: F401  (registers every operation handler)
from connectfed.admin.access import AdminAccess
from connectfed.admin.bundle import Admin, build_admin
from connectfed.admin.edge import admin_middleware, admin_off_routes
from connectfed.api.cti import authenticator
from connectfed.api.errors import aws_error
from connectfed.audit.history import AuditHistory
from connectfed.audit.trail import AuditTrail
from connectfed.auth.verify import (
    ReceivedRequest,
    SignatureClaim,
    SigningKeyCache,
    check_scope,
    verify,
)
from connectfed.clock import Clock, ShiftedClock, SystemClock
from connectfed.connect.agent_admin import AgentAdministration
from connectfed.connect.agent_sessions import AgentSessions
from connectfed.connect.agents import AgentService
from connectfed.connect.federation import FederationService
from connectfed.connect.instances import InstanceService
from connectfed.identity import ids
from connectfed.identity.assume_saml import AssumeRoleWithSaml
from connectfed.identity.authorize import Authorizer
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.explain import Explanations
from connectfed.identity.iam import IamService
from connectfed.identity.principal import Origin, Principal
from connectfed.identity.providers import SamlProviderService
from connectfed.identity.roles import RoleDirectory
from connectfed.identity.simulate import PolicySimulator
from connectfed.identity.sts import StsService
from connectfed.offload import Offload
from connectfed.server.audit_denials import audit_denials
from connectfed.server.edge import (
    BODY_ARRIVED_EXTENSION,
    ASGIApp,
    Middleware,
    Observer,
    Receive,
    Scope,
    Send,
    build_edge,
    request_id_of,
)
from connectfed.server.explain_route import explain_route
from connectfed.server.metrics import PATH as METRICS_PATH
from connectfed.server.metrics import Metrics, metrics_route
from connectfed.server.request_log import request_log
from connectfed.settings import Settings
from connectfed.store import Conflict, MasterKey, Store, Unavailable, deferred, open_store
from connectfed.store.records import AccessKey
from connectfed.tokens import TokenKeys, TokenService
from connectfed.web.ccp import MISSING, CcpOptions, CcpSite, default_streams_dir
from connectfed.web.cookies import SESSION_COOKIE
from connectfed.web.routes import WebRoutes
from connectfed.web.sessions import BrowserSessions
from connectfed.web.signin import BrowserSignin
from connectfed.web.testidp_site import TestIdpSite
from connectfed.wire import cti_model
from connectfed.wire.dispatch import Dispatcher, Response
from connectfed.wire.json10 import CtiDispatcher
from connectfed.wire.registry import REGISTRY

log = logging.getLogger("connectfed")
# Streams' worker posts to <baseUrl>/api (or /connect/api on awsapps.com domains); the instance
# origin path comes first here: <public>/connect/<instance-id>/api.
_CTI_PATH = re.compile(r"^(?:/connect/([A-Za-z0-9_.:-]{1,100}))?(?:/connect)?/api/?$")


@dataclass(frozen=True, slots=True)
class Bootstrap:
    account_id: str
    root_access_key_id: str
    root_secret_access_key: str
    created: bool  # generated on this start (print once)


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: Clock
    resolver: CredentialResolver
    authz: Authorizer
    iam: IamService
    sts: StsService
    instances: InstanceService
    federation: FederationService
    providers: SamlProviderService
    assume_saml: AssumeRoleWithSaml
    signin: BrowserSignin
    bootstrap: Bootstrap
    agents: AgentService
    agent_admin: AgentAdministration
    tokens: TokenService
    agent_sessions: AgentSessions
    explanations: Explanations
    simulator: PolicySimulator
    audit: AuditTrail
    audit_history: AuditHistory
    metrics: Metrics
    offload: Offload  # where store calls run, off the event loop
    admin: Admin | None = None  # the admin API (time travel, faults) when it is on

    def close(self) -> None:
        """Shut down in order: the store calls under way finish, the queued audit events are
        stored, then the store closes (and with it every thread these services started)."""
        self.offload.close()
        self.audit.close()
        self.store.close()


def _bootstrap(store: Store, clock: Clock) -> Bootstrap:
    env_account = os.environ.get("CONNECTFED_ACCOUNT_ID")
    env_key = os.environ.get("CONNECTFED_ROOT_ACCESS_KEY_ID")
    env_secret = os.environ.get("CONNECTFED_ROOT_SECRET_ACCESS_KEY")
    stored = store.meta_get("bootstrap")
    if env_account and env_key and env_secret:
        if store.get_access_key(env_key) is None:
            # Conflict: another server sharing the database created it first.
            with contextlib.suppress(Conflict):
                store.create_access_key(
                    AccessKey(
                        env_key, env_secret, env_account, None, "Active", clock.now().timestamp()
                    )
                )
        store.meta_setdefault(
            "bootstrap", json.dumps({"account_id": env_account, "access_key_id": env_key})
        )
        return Bootstrap(env_account, env_key, env_secret, created=False)
    if stored is not None:
        info = json.loads(stored)
        key = store.get_access_key(info["access_key_id"])
        if key is None:
            # The first root key was rotated away (CreateAccessKey then DeleteAccessKey, as
            # root): the account's current root key stands for it, if one is left.
            current = sorted(
                store.list_access_keys(info["account_id"], None),
                key=lambda k: (k.status != "Active", -k.created),
            )
            key = current[0] if current else None
        if key is None:
            return Bootstrap(info["account_id"], "", "", created=False)
        return Bootstrap(info["account_id"], key.access_key_id, key.secret_access_key, False)
    key = AccessKey(
        ids.long_term_access_key_id(),
        ids.secret_access_key(),
        ids.account_id(),
        None,
        "Active",
        clock.now().timestamp(),
    )
    won = store.meta_setdefault(
        "bootstrap", json.dumps({"account_id": key.account_id, "access_key_id": key.access_key_id})
    )
    info = json.loads(won)
    if info["access_key_id"] == key.access_key_id:
        store.create_access_key(key)
        return Bootstrap(key.account_id, key.access_key_id, key.secret_access_key, True)
    return _bootstrap(store, clock)  # another process bootstrapped first


def build_services(
    settings: Settings,
    clock: Clock | None = None,
    store: Store | None = None,
    master_key: MasterKey | None = None,
) -> Services:
    """Wire every service. ``master_key`` seals the secrets at rest (see ``store.sealing``);
    a wrong or missing one raises :class:`~connectfed.store.MasterKeyError` here."""
    store = store or open_store(settings.database_url, master_key)
    real_clock = clock or SystemClock()
    admin = None
    if settings.admin:
        # Every service reads the shifted clock: all expiries follow the admin API's offset.
        shifted = ShiftedClock(store.clock_offset, real_clock, settings.admin_cache_seconds)
        admin = build_admin(
            AdminAccess(True, settings.admin_token),
            store,
            shifted,
            settings.admin_cache_seconds,
            real_clock,
        )
    clock = admin.clock if admin is not None else real_clock
    # The token HMAC key is a secret like the others: stored sealed under the master key.
    hmac_key = bytes.fromhex(store.meta_secret_setdefault("token_hmac_key", secrets.token_hex(32)))
    ttl = settings.cache_ttl_seconds
    resolver = CredentialResolver(store, clock, hmac_key, ttl)
    explanations = Explanations(store, clock, keep_seconds=settings.explain_keep_seconds)
    authz = Authorizer(store, clock, settings.region, ttl, explanations)
    # Observability: the audit trail (told to the metrics) that services record events in.
    bootstrap = _bootstrap(store, clock)
    metrics = Metrics()
    audit = AuditTrail(
        store,
        clock,
        region=settings.region,
        account_id=bootstrap.account_id,
        retention_days=settings.audit_retention_days,
        max_events=settings.audit_max_events,
        observers=(metrics,),
    )
    offload = Offload(settings.store_threads)
    agents = AgentService(store, clock, offload=offload)
    instances = InstanceService(
        store, clock, authz, settings.region, ttl, on_created=agents.ensure_defaults
    )
    roles = RoleDirectory(store, clock, ttl)
    sts = StsService(store, clock, authz, hmac_key, settings.region, roles)
    providers = SamlProviderService(
        store,
        clock,
        authz,
        ttl,
        recipients=settings.saml_endpoints,
        audiences=settings.saml_audiences,
        skew_seconds=settings.clock_skew_seconds,
        allow_sha1=settings.allow_saml_sha1,
    )
    tokens = TokenService(
        store,
        clock,
        TokenKeys(store, clock, ttl),
        reuse_grace_seconds=settings.refresh_reuse_grace_seconds,
        gc_interval_seconds=settings.token_gc_seconds,
        # A retired key is dropped once no token it hashed can be alive: the longest lifetime
        # is the refresh horizon, or a role session's 12 h maximum for console sessions.
        key_keep_seconds=max(settings.refresh_token_seconds, 12 * 3600) + ttl + 60,
    )
    agent_sessions = AgentSessions(store, clock, tokens, settings, audit=audit)
    federation = FederationService(
        store, clock, authz, instances, agent_sessions, settings, aws_error, audit=audit
    )
    assume_saml = AssumeRoleWithSaml(
        store,
        clock,
        sts,
        providers,
        single_use=settings.saml_single_use,
        aws_error=aws_error,
        skew_seconds=settings.clock_skew_seconds,
        explanations=explanations,
        audit=audit,
    )
    sessions = BrowserSessions(
        sessions=agent_sessions, store=store, clock=clock, public_url=settings.public_url
    )
    signin = BrowserSignin(
        store=store,
        clock=clock,
        settings=settings,
        providers=providers,
        assume_saml=assume_saml,
        resolver=resolver,
        federation=federation,
        instances=instances,
        tokens=tokens,
        state_key=hmac_key,
        sessions=sessions,
        audit=audit,
    )
    return Services(
        settings=settings,
        store=store,
        clock=clock,
        resolver=resolver,
        authz=authz,
        iam=IamService(store, clock, authz, resolver, roles),
        sts=sts,
        instances=instances,
        federation=federation,
        providers=providers,
        assume_saml=assume_saml,
        signin=signin,
        bootstrap=bootstrap,
        agents=agents,
        agent_admin=AgentAdministration(authz, instances, agents),
        tokens=tokens,
        agent_sessions=agent_sessions,
        admin=admin,
        explanations=explanations,
        simulator=PolicySimulator(store, authz),
        audit=audit,
        audit_history=AuditHistory(store, authz, flush=audit.flush),
        metrics=metrics,
        offload=offload,
    )


def make_authenticate(services: Services) -> Any:
    keys = SigningKeyCache()
    skew = timedelta(seconds=services.settings.clock_skew_seconds)
    region = services.settings.region

    def authenticate(
        request: ReceivedRequest,
        claim: SignatureClaim,
        service: str,
        request_id: str,
        cached_only: bool = False,
    ) -> Principal:
        # IAM is a global service: clients sign it for us-east-1 whatever the Region.
        regions = (region, "us-east-1") if service == "iam" else (region,)
        check_scope(claim, service=service, regions=regions)
        secret, principal = services.resolver.resolve(claim, cached_only=cached_only)
        verify(request, claim, secret, now=services.clock.now(), keys=keys, skew=skew)
        return principal.signing(Origin(request.source_ip, request.secure, request_id))

    return authenticate


log = logging.getLogger("connectfed.app")

_HEALTH = b'{"status":"ok"}'
# What an HTTP field value may not hold (RFC 9110 §5.5: no CR, LF, NUL or other controls).
_BAD_FIELD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_INTERNAL_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Error</title>"
    b"</head><body><h1>Something went wrong</h1></body></html>"
)


_UNAVAILABLE_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Service unavailable</title>"
    b"</head><body><h1>Service unavailable</h1><p>Please try again in a moment.</p></body></html>"
)


def _page_error(where: str, error: Exception) -> Response:
    """The page answering a browser whose request raised ``error``: 503 when the database
    cannot be reached (the browser may simply try again), else 500 (logged: our bug)."""
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if isinstance(error, Unavailable):
        log.error("%s: %s", where, error)
        return Response(503, {**headers, "Retry-After": "1"}, _UNAVAILABLE_PAGE)
    log.error("internal error on %s", where, exc_info=error)
    return Response(500, headers, _INTERNAL_PAGE)


def _plain_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    return Response(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body)


class ConnectfedApp:
    """The ASGI application."""

    def __init__(self, services: Services, idp: TestIdpSite | None = None) -> None:
        self.services = services
        self.web = WebRoutes(
            services.signin, idp, secure=services.settings.public_url.startswith("https:")
        )
        gate = services.admin.gate if services.admin is not None else None
        self.dispatcher = Dispatcher(
            REGISTRY, make_authenticate(services), services, gate, unavailable=(Unavailable,)
        )
        self._max_body = services.settings.max_body_bytes
        self._body_timeout = services.settings.body_timeout_seconds
        self._offload = services.offload
        self._admin = services.admin
        settings = services.settings
        streams = Path(settings.streams_dir) if settings.streams_dir else default_streams_dir()
        try:
            model = cti_model.load(streams)
            missing = ""
        except cti_model.ModelNotFound as exc:
            log.warning("CTI API and CCP unavailable: %s", exc)
            model, missing = None, str(exc) if str(exc).startswith(MISSING) else MISSING
        self.cti = CtiDispatcher(
            model,
            missing,
            authenticator(services),
            services,
            self._run,
            gate,
            unavailable=(Unavailable,),
        )
        self.ccp = CcpSite(
            CcpOptions(
                region=settings.region,
                streams_dir=streams if model else None,
                frame_ancestors=settings.ccp_frame_ancestors,
                test_idp=idp is not None,
                cookie_name=SESSION_COOKIE,
                instance_exists=self._instance_exists,
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = request_id_of(scope)
        if scope["path"] == "/_connectfed/health":
            await self._send(
                send, request_id, Response(200, {"Content-Type": "application/json"}, _HEALTH)
            )
            return
        body = (
            b"" if _without_body(scope) else await self._read_body(scope, receive, send, request_id)
        )
        if body is None:
            return
        try:
            raw_path = scope.get("raw_path", scope["path"].encode())
            request = ReceivedRequest(
                method=scope["method"],
                raw_path=raw_path.decode("utf-8"),
                raw_query=scope.get("query_string", b"").decode("utf-8"),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body=bytes(body),
                # The connection's own peer and scheme (uvicorn runs with proxy_headers off, so
                # a client cannot claim another address with X-Forwarded-For).
                source_ip=(scope.get("client") or (None, None))[0],
                secure=scope.get("scheme") == "https",
            )
        except UnicodeDecodeError:
            await self._send(
                send,
                request_id,
                Response(
                    400,
                    {
                        "Content-Type": "application/json",
                        "x-amzn-ErrorType": "SerializationException",
                    },
                    b'{"message":"The request URI is not valid UTF-8"}',
                ),
            )
            return
        path = scope["path"]
        if self.ccp.handles(request.method, path):
            try:
                page = await self._run(self.ccp.handle, path)
            except Exception as exc:
                page = _page_error("the CCP", exc)
            await self._send(send, request_id, page)
            return
        cti = _CTI_PATH.match(path) if request.method == "POST" else None
        if cti is not None:
            await self._send(
                send,
                request_id,
                await self.cti.handle(cti.group(1), request.headers, request.body, request_id),
            )
            return
        if self.web.handles(request.method, path, request.headers, request.raw_query):
            try:
                web = await self._run(
                    self.web.handle,
                    request.method,
                    scope["path"],
                    request.raw_query,
                    request.headers,
                    request.body,
                    request_id,
                )
            except Exception as exc:
                await self._send(send, request_id, _page_error("a browser route", exc))
                return
            await self._send(send, request_id, Response(web.status, web.headers, web.body))
            return
        # Answered here on the event loop when nothing must be read from the store (a storeless
        # operation signed with cached credentials); otherwise in the store's threads.
        response = None
        if self._admin is None:  # (the admin API's clock and faults are read per request)
            response = self.dispatcher.answer_inline(request, request_id)
        if response is None:
            # Writes the handler deferred are committed before the reply (store/deferred.py).
            with deferred.collecting() as writes:
                response = await self._run(self.dispatcher.handle, request, request_id)
            if writes and not await deferred.all_durable(writes):
                response = self.dispatcher.not_durable(request_id, [w.error for w in writes])
        await self._send(send, request_id, response)

    def _instance_exists(self, instance_id: str) -> bool:
        return self.services.store.get_instance(instance_id) is not None

    async def _read_body(
        self, scope: Scope, receive: Any, send: Any, request_id: str
    ) -> bytes | None:
        """The request body, bounded in size and in time; None when already answered."""
        arrived = (scope.get("extensions") or {}).get(BODY_ARRIVED_EXTENSION)
        if arrived is not None and arrived():
            # All of it came with the head (the usual small request): nothing to wait for, so
            # no timer (an asyncio.timeout costs ~3 % of a GetCallerIdentity).
            return await self._collect_body(receive, send, request_id)
        try:
            async with asyncio.timeout(self._body_timeout):
                return await self._collect_body(receive, send, request_id)
        except TimeoutError:
            await self._send(
                send,
                request_id,
                _plain_error(408, "RequestTimeoutException", "Request body not received in time"),
            )
            return None

    async def _collect_body(self, receive: Any, send: Any, request_id: str) -> bytes | None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max_body:
                await self._send(
                    send,
                    request_id,
                    _plain_error(413, "RequestEntityTooLargeException", "Request Entity Too Large"),
                )
                return None
        return bytes(body)

    async def _run(self, function: Any, *args: Any) -> Any:
        """``function(*args)`` off the event loop, in the request's context (offload.py)."""
        if self._admin is not None:
            return await self._offload.run(self._synced, self._admin, function, *args)
        return await self._offload.run(function, *args)

    @staticmethod
    def _synced(admin: Admin, function: Any, *args: Any) -> Any:
        # The admin clock and faults as the database has them now (when it cannot be reached:
        # as last read, and the request's own store calls answer for the database).
        with contextlib.suppress(Unavailable):
            admin.sync()
        return function(*args)

    async def _send(self, send: Any, request_id: str, response: Response) -> None:
        """Send ``response`` with ``x-amzn-RequestId`` (the dispatcher's answers carry it;
        pages and the app's own refusals get it here)."""
        headers = _encode_headers(response.headers)
        if headers is None:
            # A value we built cannot travel as an HTTP field (inputs are checked before use,
            # so this is our bug): answer 500 rather than let the connection fail mid-response.
            log.error(
                "response to send had a header that is not a valid HTTP field value: %s",
                ", ".join(response.headers),
            )
            response = _plain_error(500, "InternalFailure", "An internal error occurred.")
            headers = _encode_headers(response.headers) or []
        if not any(name.lower() == b"x-amzn-requestid" for name, _ in headers):
            headers.append((b"x-amzn-RequestId", request_id.encode()))
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.services.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _without_body(scope: Scope) -> bool:
    """The request has no body: neither Content-Length nor Transfer-Encoding (RFC 9112 §6.3),
    or a Content-Length of 0. Nothing to wait for, so no timer to set (most GETs)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value.strip() == b"0")
        if name == b"transfer-encoding":
            return False
    return True


def _encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]] | None:
    """The headers as ASGI wants them, or None when one cannot be sent (not latin-1, or
    holding a control character that would end or corrupt the field)."""
    try:
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    except UnicodeEncodeError:
        return None
    # One search over every name and value (joined by a space, which is allowed).
    if _BAD_FIELD_VALUE.search(" ".join(f"{k} {v}" for k, v in headers.items())):
        return None
    return encoded


def create_app(settings: Settings, clock: Clock | None = None) -> ConnectfedApp:
    return ConnectfedApp(build_services(settings, clock))


def create_edge(services: Services, idp: TestIdpSite | None = None) -> Any:
    """The ASGI application a server runs: the app inside the edge (server/edge.py)."""
    routes: dict[str, ASGIApp] = {METRICS_PATH: metrics_route(services.metrics)}
    prefixes: list[tuple[str, ASGIApp]] = []
    observers: list[Observer] = [services.metrics.observe_request]
    if services.settings.log_format == "json":
        observers.append(request_log)
    observers.append(audit_denials(services.audit))
    middleware: list[Middleware] = []
    if services.admin is not None:
        middleware.append(admin_middleware(services.admin, services.offload))
        middleware.append(explain_route(services.explanations, services.offload))
    else:
        off_routes, off_prefixes = admin_off_routes()
        routes.update(off_routes)
        prefixes.extend(off_prefixes)
    return build_edge(
        ConnectfedApp(services, idp),
        middleware,
        routes=routes,
        prefixes=prefixes,
        observers=observers,
    )
