"""Composition root: settings -> store -> services -> the ASGI application inside the edge.

:func:`build_services` builds every service once, from :class:`~connectfed.settings.Settings`;
:func:`create_edge` puts the application that routes requests to them
(:mod:`connectfed.server.application`) inside the edge's middleware chain
(:mod:`connectfed.server.edge`): the request id, limits, metrics, logs and the admin API.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from connectfed.admin.access import AdminAccess
from connectfed.admin.bundle import Admin, build_admin
from connectfed.admin.edge import admin_middleware, admin_off_routes
from connectfed.api.errors import aws_error
from connectfed.audit.history import AuditHistory
from connectfed.audit.trail import AuditTrail
from connectfed.clock import Clock, ShiftedClock, SystemClock
from connectfed.connect.agent_admin import AgentAdministration
from connectfed.connect.agent_sessions import AgentSessions
from connectfed.connect.agents import AgentService
from connectfed.connect.federation import FederationService
from connectfed.connect.instances import InstanceService
from connectfed.connect.resource_tags import ConnectTags
from connectfed.identity import ids
from connectfed.identity.assume_saml import AssumeRoleWithSaml
from connectfed.identity.authorize import Authorizer
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.explain import Explanations
from connectfed.identity.iam import IamService
from connectfed.identity.providers import SamlProviderService
from connectfed.identity.roles import RoleDirectory
from connectfed.identity.simulate import PolicySimulator
from connectfed.identity.sts import StsService
from connectfed.offload import Offload
from connectfed.server.application import ConnectfedApp
from connectfed.server.audit_calls import audit_calls
from connectfed.server.edge import ASGIApp, Middleware, Observer, build_edge
from connectfed.server.explain_route import explain_route
from connectfed.server.metrics import PATH as METRICS_PATH
from connectfed.server.metrics import Metrics, metrics_route
from connectfed.server.request_log import request_log
from connectfed.settings import Settings
from connectfed.store import Conflict, MasterKey, Store, open_store
from connectfed.store.records import AccessKey
from connectfed.tokens import TokenKeys, TokenService
from connectfed.web.sessions import BrowserSessions
from connectfed.web.signin import BrowserSignin
from connectfed.web.testidp_site import TestIdpSite
from connectfed.wire.dispatch import denial_code


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
    connect_tags: ConnectTags
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
    explanations = Explanations(
        store, clock, keep_seconds=settings.explain_keep_seconds, told=denial_code
    )
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
    connect_tags = ConnectTags(store, authz, settings.region, instances.find, instances.forget)
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
    agent_sessions = AgentSessions(
        store, clock, tokens, settings, audit=audit, on_ended=agents.session_ended
    )
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
        agent_admin=AgentAdministration(authz, instances, agents, connect_tags),
        connect_tags=connect_tags,
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


def create_app(settings: Settings, clock: Clock | None = None) -> ConnectfedApp:
    return ConnectfedApp(build_services(settings, clock))


def create_edge(services: Services, idp: TestIdpSite | None = None) -> Any:
    """The ASGI application a server runs: the app inside the edge (server/edge.py)."""
    routes: dict[str, ASGIApp] = {METRICS_PATH: metrics_route(services.metrics)}
    prefixes: list[tuple[str, ASGIApp]] = []
    observers: list[Observer] = [services.metrics.observe_request]
    if services.settings.log_format == "json":
        observers.append(request_log)
    observers.append(audit_calls(services.audit, services.settings.region))
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
