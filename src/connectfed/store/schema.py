"""Schema migrations, shared by every SQL backend.

Each entry of :data:`MIGRATIONS` is applied once, in order, inside a transaction, and recorded in
``schema_version``. The DDL sticks to types both SQLite and PostgreSQL understand. Hand-written:
the store uses plain SQL without an ORM, so Alembic would bring SQLAlchemy for one small loop.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        account_id TEXT NOT NULL,
        user_name TEXT,
        status TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX access_keys_owner ON access_keys (account_id, user_name);
    CREATE TABLE iam_users (
        account_id TEXT NOT NULL,
        user_name_key TEXT NOT NULL,
        user_name TEXT NOT NULL,
        user_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (account_id, user_name_key)
    );
    CREATE TABLE roles (
        account_id TEXT NOT NULL,
        role_name_key TEXT NOT NULL,
        role_name TEXT NOT NULL,
        role_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL,
        trust_policy TEXT NOT NULL,
        max_session_duration INTEGER NOT NULL,
        description TEXT,
        created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (account_id, role_name_key)
    );
    CREATE TABLE inline_policies (
        owner_kind TEXT NOT NULL,
        account_id TEXT NOT NULL,
        owner_key TEXT NOT NULL,
        owner_name TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (owner_kind, account_id, owner_key, policy_name)
    );
    CREATE TABLE sts_sessions (
        access_key_id TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        account_id TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        role_id TEXT NOT NULL,
        role_name TEXT NOT NULL,
        session_name TEXT NOT NULL,
        source TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        expiration DOUBLE PRECISION NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE instances (
        instance_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        arn TEXT NOT NULL,
        alias TEXT UNIQUE,
        identity_management_type TEXT NOT NULL,
        status TEXT NOT NULL,
        inbound_calls INTEGER NOT NULL,
        outbound_calls INTEGER NOT NULL,
        created DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX instances_account ON instances (account_id, created);
    CREATE TABLE profiles (
        instance_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        PRIMARY KEY (instance_id, kind, profile_id)
    );
    CREATE TABLE connect_users (
        instance_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        username TEXT NOT NULL,
        arn TEXT NOT NULL,
        security_profile_ids TEXT NOT NULL,
        routing_profile_id TEXT NOT NULL,
        identity_info TEXT NOT NULL,
        phone_config TEXT NOT NULL,
        directory_user_id TEXT,
        hierarchy_group_id TEXT,
        created DOUBLE PRECISION NOT NULL,
        modified DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (instance_id, user_id),
        UNIQUE (instance_id, username)
    );
    CREATE TABLE role_bindings (
        instance_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (instance_id, user_id, role_arn)
    );
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        family_id TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        session_key_id TEXT,
        created DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tokens_family ON tokens (family_id);
    CREATE INDEX tokens_expires ON tokens (expires);
    """,
    # 2: SAML identity providers and the replay cache of used assertions
    """
    CREATE TABLE saml_providers (
        arn TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        metadata_document TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        valid_until DOUBLE PRECISION
    );
    CREATE INDEX saml_providers_account ON saml_providers (account_id, name);
    CREATE TABLE used_assertions (
        assertion_key TEXT PRIMARY KEY,
        expires DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX used_assertions_expires ON used_assertions (expires);
    """,
    # 3: pending browser sign-ins (the role chooser)
    """
    CREATE TABLE signin_states (
        state_hash TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        expires DOUBLE PRECISION NOT NULL
    );
    """,
    # 4: access keys, inline policies and role bindings belong to principals by unique id
    #    (AIDA…/AROA…), not by name, so a user or role recreated under an old name inherits
    #    nothing. Rows are matched to the current owner of their name; rows whose owner is gone
    #    are dropped (keys, policies) or keep a binding to a dead id (bindings).
    """
    ALTER TABLE access_keys ADD COLUMN user_id TEXT;
    UPDATE access_keys SET user_id = (SELECT u.user_id FROM iam_users u
        WHERE u.account_id = access_keys.account_id
        AND u.user_name_key = lower(access_keys.user_name)) WHERE user_name IS NOT NULL;
    DELETE FROM access_keys WHERE user_name IS NOT NULL AND user_id IS NULL;
    CREATE INDEX access_keys_user ON access_keys (user_id);
    CREATE TABLE inline_policies_v4 (
        owner_kind TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (owner_kind, owner_id, policy_name)
    );
    INSERT INTO inline_policies_v4 (owner_kind, owner_id, policy_name, document)
        SELECT p.owner_kind, u.user_id, p.policy_name, p.document FROM inline_policies p
        JOIN iam_users u ON u.account_id = p.account_id AND u.user_name_key = p.owner_key
        WHERE p.owner_kind = 'user';
    INSERT INTO inline_policies_v4 (owner_kind, owner_id, policy_name, document)
        SELECT p.owner_kind, r.role_id, p.policy_name, p.document FROM inline_policies p
        JOIN roles r ON r.account_id = p.account_id AND r.role_name_key = p.owner_key
        WHERE p.owner_kind = 'role';
    DROP TABLE inline_policies;
    ALTER TABLE inline_policies_v4 RENAME TO inline_policies;
    CREATE TABLE role_bindings_v4 (
        instance_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role_id TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (instance_id, user_id, role_id)
    );
    INSERT INTO role_bindings_v4 (instance_id, user_id, role_id, role_arn, created)
        SELECT b.instance_id, b.user_id,
               COALESCE(r.role_id, u.user_id, 'deleted:' || b.role_arn), b.role_arn, b.created
        FROM role_bindings b
        LEFT JOIN roles r ON r.arn = b.role_arn
        LEFT JOIN iam_users u ON u.arn = b.role_arn;
    DROP TABLE role_bindings;
    ALTER TABLE role_bindings_v4 RENAME TO role_bindings;
    """,
    # 5: Connect agent data: agent statuses, queues, routing profile settings and queues, the
    # agents' live state, and a per-instance marker that the defaults exist
    """
    CREATE TABLE connect_defaults (
        instance_id TEXT PRIMARY KEY,
        hours_of_operation_id TEXT NOT NULL,
        offline_status_id TEXT NOT NULL
    );
    CREATE TABLE agent_statuses (
        instance_id TEXT NOT NULL,
        status_id TEXT NOT NULL,
        arn TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        type TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        display_order INTEGER,
        modified DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (instance_id, status_id),
        UNIQUE (instance_id, name)
    );
    CREATE TABLE queues (
        instance_id TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        arn TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        queue_type TEXT NOT NULL,
        hours_of_operation_id TEXT NOT NULL,
        max_contacts INTEGER,
        enabled INTEGER NOT NULL,
        modified DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (instance_id, queue_id),
        UNIQUE (instance_id, name)
    );
    CREATE TABLE routing_profile_settings (
        instance_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        description TEXT NOT NULL,
        default_outbound_queue_id TEXT NOT NULL,
        media_concurrencies TEXT NOT NULL,
        modified DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (instance_id, profile_id)
    );
    CREATE TABLE routing_profile_queues (
        instance_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        queue_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        priority INTEGER NOT NULL,
        delay INTEGER NOT NULL,
        PRIMARY KEY (instance_id, profile_id, queue_id, channel)
    );
    CREATE TABLE agent_states (
        instance_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        status_id TEXT NOT NULL,
        started DOUBLE PRECISION NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (instance_id, user_id)
    );
    """,
    # 6: SAML assertion encryption: the provider's UUID and encryption mode, its private keys
    # (at most two, for rollover), and the lookup of providers by entityID
    """
    ALTER TABLE saml_providers ADD COLUMN provider_uuid TEXT;
    ALTER TABLE saml_providers ADD COLUMN encryption_mode TEXT;
    CREATE INDEX saml_providers_entity ON saml_providers (entity_id);
    CREATE TABLE saml_private_keys (
        provider_arn TEXT NOT NULL,
        key_id TEXT NOT NULL,
        private_key TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (provider_arn, key_id)
    );
    """,
    # 7: token lifecycle: families (one grant, one horizon, revoked as a whole) and tokens with
    #    the id of the key that hashed them and a distinct `used` state; existing rows are kept
    #    (hashed with key "k0", the key they were made with; "revoked" there meant "used").
    """
    ALTER TABLE tokens RENAME TO tokens_v1;
    CREATE TABLE token_families (
        family_id TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        session_key_id TEXT,
        role_arn TEXT,
        created DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION NOT NULL,
        revoked TEXT
    );
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        family_id TEXT NOT NULL,
        state TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION NOT NULL,
        spent DOUBLE PRECISION
    );
    INSERT INTO token_families (family_id, instance_id, user_id, session_key_id, role_arn,
                                created, expires, revoked)
        SELECT family_id, MAX(instance_id), MAX(user_id), MAX(session_key_id), NULL,
               MIN(created), MAX(expires), CASE WHEN MIN(revoked) = 1 THEN 'revoked' END
        FROM tokens_v1 GROUP BY family_id;
    INSERT INTO tokens (token_hash, key_id, kind, family_id, state, created, expires, spent)
        SELECT token_hash, 'k0', kind, family_id,
               CASE WHEN revoked = 1 THEN 'used' ELSE 'active' END, created, expires, NULL
        FROM tokens_v1;
    DROP TABLE tokens_v1;
    CREATE INDEX tokens_family ON tokens (family_id);
    CREATE INDEX tokens_expires ON tokens (expires);
    CREATE INDEX token_families_user ON token_families (instance_id, user_id);
    CREATE INDEX token_families_expires ON token_families (expires);
    CREATE INDEX signin_states_expires ON signin_states (expires);
    """,
    # 8: the admin API's injected faults, shared by every server on the database (the clock
    #    offset is a meta value); `remaining` counts down atomically, NULL meaning "every call"
    """
    CREATE TABLE admin_faults (
        fault_id TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        operation TEXT,
        action TEXT NOT NULL,
        error_code TEXT,
        latency_ms INTEGER,
        remaining INTEGER,
        rate DOUBLE PRECISION,
        created DOUBLE PRECISION NOT NULL
    );
    """,
    # 9: recent decisions (explanations of denied requests) by request id, deleted when expired
    """
    CREATE TABLE decisions (
        request_id TEXT PRIMARY KEY,
        created DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION NOT NULL,
        document TEXT NOT NULL
    );
    CREATE INDEX decisions_expires ON decisions (expires);
    CREATE INDEX decisions_created ON decisions (created);
    """,
    # 10: the audit trail (CloudTrail LookupEvents): one row per event, newest first by
    #     position; its resources beside it for lookups by resource name or type
    """
    CREATE TABLE audit_events (
        event_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        event_time DOUBLE PRECISION NOT NULL,
        position DOUBLE PRECISION NOT NULL,
        event_name TEXT NOT NULL,
        event_source TEXT NOT NULL,
        username TEXT,
        access_key_id TEXT,
        read_only INTEGER NOT NULL,
        document TEXT NOT NULL
    );
    CREATE INDEX audit_events_order ON audit_events (account_id, position, event_id);
    CREATE INDEX audit_events_position ON audit_events (position);
    CREATE TABLE audit_resources (
        event_id TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        resource_name TEXT NOT NULL,
        PRIMARY KEY (event_id, resource_type, resource_name)
    );
    CREATE INDEX audit_resources_name ON audit_resources (resource_name);
    CREATE INDEX audit_resources_type ON audit_resources (resource_type);
    """,
    # 11: GetFederationToken's quota kept in the database (serve --throttle-shared): one token
    #     bucket per account and Region, exact across every worker and server sharing it
    """
    CREATE TABLE throttle_buckets (
        bucket TEXT PRIMARY KEY,
        tokens DOUBLE PRECISION NOT NULL,
        updated DOUBLE PRECISION NOT NULL
    );
    """,
    # 12: a federation writes one row: the tokens minted with a family (GetFederationToken's
    #     access and refresh tokens and sign-in code) are kept in the family's row, as keyed
    #     hashes with their state (see tokens/service.py); tokens minted later keep their rows.
    #     Token rows are deleted with their family only, so they need no index on their expiry.
    #     Families and tokens stored before keep working as they are (no inline tokens).
    """
    ALTER TABLE token_families ADD COLUMN inline_tokens TEXT;
    DROP INDEX tokens_expires;
    """,
    # 13: the session policy an AssumeRole / AssumeRoleWithSAML call passed (its ``Policy``):
    #     the session may do only what both the role's policies and this one allow
    """
    ALTER TABLE sts_sessions ADD COLUMN session_policy TEXT;
    """,
    # 14: no lookup uses the index of audit resources by type (a handful of values; a lookup
    #     by type probes each event's resources by the primary key), and every event paid for
    #     it: its resource rows' inserts ~6-9 µs an event (GetFederationToken records two)
    """
    DROP INDEX audit_resources_type;
    """,
    # 15: a session's tags (JSON: [[key, value, transitive], ...]; NULL for none) and source
    #     identity, set by AssumeRole / AssumeRoleWithSAML or inherited in role chaining: its
    #     aws:PrincipalTag/<key> and aws:SourceIdentity on every request it signs
    """
    ALTER TABLE sts_sessions ADD COLUMN session_tags TEXT;
    ALTER TABLE sts_sessions ADD COLUMN source_identity TEXT;
    """,
    # 16: LookupEvents with a rare value (a user, a key, a name seen a few times or never)
    #     walked the account's events newest first and read each one's table row, ~1.6 KB with
    #     its document, to test the attribute (at 200,000 events: ~0.2 s a page on SQLite).
    #     The walk's index now holds every attribute a lookup tests, so the walk reads the
    #     index alone, a tenth of the pages; the events found are then read by key
    #     (sql_audit.py). An index per attribute would answer rare values at once, but its
    #     entries land all over its tree: measured at 100,000 events, they took an event's
    #     write from ~32 to ~112 µs (the username and resource-name ones ~30 µs each), where
    #     this one is still appended at its end, as before.
    """
    DROP INDEX audit_events_order;
    CREATE INDEX audit_events_order ON audit_events (
        account_id, position, event_id, event_time, event_name, username, event_source,
        access_key_id, read_only
    );
    """,
    # 17: the tags of IAM users and roles (JSON: [[key, value], ...]; NULL for none), kept in
    #     their rows: the key or session a request is signed with reads its user or role once
    #     per cache lifetime anyway, so its aws:PrincipalTag/<key> comes with it, no read more
    """
    ALTER TABLE iam_users ADD COLUMN tags TEXT;
    ALTER TABLE roles ADD COLUMN tags TEXT;
    """,
    # 18: who a SAML session was made for (JSON: [sub, sub_type, name_qualifier]; NULL for a
    #     session not made by AssumeRoleWithSAML): its saml:sub, saml:sub_type and
    #     saml:namequalifier on every request it signs
    """
    ALTER TABLE sts_sessions ADD COLUMN saml_subject TEXT;
    """,
    # 19: the tags of SAML providers and of Connect instances, users, agent statuses, queues and
    #     routing and security profiles (JSON: [[key, value], ...]; NULL for none), kept in
    #     their rows as users' and roles' are (17): read with the resource (an instance's with
    #     the cached instance GetFederationToken reads anyway), deleted with it
    """
    ALTER TABLE saml_providers ADD COLUMN tags TEXT;
    ALTER TABLE instances ADD COLUMN tags TEXT;
    ALTER TABLE connect_users ADD COLUMN tags TEXT;
    ALTER TABLE agent_statuses ADD COLUMN tags TEXT;
    ALTER TABLE queues ADD COLUMN tags TEXT;
    ALTER TABLE profiles ADD COLUMN tags TEXT;
    """,
    # 20: an alias is taken in any case (it names the instance's host, <alias>.my.connect.aws,
    #     and DNS knows no case): alias_key is the alias in lower case, unique. A database made
    #     before may hold one alias in several cases: the oldest instance gets the key, the
    #     others keep theirs without one (none is lost) and the store still refuses their
    #     alias to a new instance by its lower-case comparison (store/sql_connect.py).
    """
    ALTER TABLE instances ADD COLUMN alias_key TEXT;
    UPDATE instances SET alias_key = lower(alias)
        WHERE alias IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM instances AS other
            WHERE lower(other.alias) = lower(instances.alias)
                AND (other.created, other.instance_id) < (instances.created, instances.instance_id)
        );
    CREATE UNIQUE INDEX instances_alias_nocase ON instances (alias_key);
    """,
)
