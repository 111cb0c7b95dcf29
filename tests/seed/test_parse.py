"""Seed files are validated before anything is applied, and every error names its line, column
and field (docs/seed.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connectfed.demo import demo_world
from connectfed.seed import WorldInvalid, parse, parse_file
from connectfed.seed.schema import TagsSpec

ROOT = Path(__file__).resolve().parents[2]


def errors_of(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(WorldInvalid) as caught:
        parse(textwrap.dedent(text), "world.yaml")
    return [(e.where.line, e.where.field, e.message) for e in caught.value.errors]


@pytest.mark.parametrize("test_idp", [False, True])
def test_the_shipped_demo_worlds_are_valid(test_idp: bool) -> None:
    world = demo_world(test_idp)
    (instance,) = world.accounts[0].instances
    assert [u.username for u in instance.users] == ["agent1", "agent2"]
    assert any(p.is_test_idp for p in world.accounts[0].saml_providers) is test_idp


def test_the_example_projects_world_is_valid() -> None:
    world = parse_file(ROOT / "examples" / "pytest" / "world.yaml")
    (user,) = world.accounts[0].users
    assert user.access_keys[0].fixed is not None
    assert user.access_keys[0].fixed.access_key_id == "AKIABACKEND000000001"


def test_an_empty_file_is_an_empty_world() -> None:
    world = parse("", "world.yaml")
    assert world.accounts[0].users == () and len(world.accounts) == 1


def test_metadata_files_are_read_relative_to_the_seed_file(tmp_path: Path) -> None:
    (tmp_path / "idp.xml").write_text("<md:EntityDescriptor/>")
    seed = tmp_path / "world.yaml"
    seed.write_text("iam:\n  saml_providers:\n    - {name: Corp, metadata_file: idp.xml}\n")
    (provider,) = parse_file(seed).accounts[0].saml_providers
    assert provider.metadata == "<md:EntityDescriptor/>"


INVALID = [
    ("not yaml", "iam: [unclosed\n", 2, "", "not valid YAML"),
    ("unknown top-level field", "iamm: {}\n", 1, "iamm", "did you mean 'iam'"),
    (
        "a typo in a nested field",
        """\
        iam:
          users:
            - name: backend
              polices: {}
        """,
        4,
        "iam.users[0].polices",
        "did you mean 'policies'",
    ),
    (
        "a name IAM refuses",
        """\
        iam:
          users:
            - name: "back end"
        """,
        3,
        "iam.users[0].name",
        "not valid",
    ),
    (
        "a missing required field",
        """\
        iam:
          roles:
            - name: R
        """,
        3,
        "iam.roles[0].trust",
        "is required",
    ),
    (
        "a fixed key without its secret",
        """\
        iam:
          users:
            - name: u
              access_keys:
                - access_key_id: AKIAAAAAAAAAAAAAAAAA
        """,
        5,
        "iam.users[0].access_keys[0].secret_access_key",
        "give both or neither",
    ),
    (
        "a malformed access key id",
        """\
        root_access_keys:
          - access_key_id: ASIAAAAAAAAAAAAAAAAA
            secret_access_key: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        """,
        2,
        "root_access_keys[0].access_key_id",
        "AKIA followed by 16",
    ),
    (
        "a secret of the wrong length",
        """\
        root_access_keys:
          - access_key_id: AKIAAAAAAAAAAAAAAAAA
            secret_access_key: short
        """,
        3,
        "root_access_keys[0].secret_access_key",
        "40 characters",
    ),
    (
        "an instance id that is no UUID",
        """\
        connect:
          instances:
            - {alias: a, id: not-a-uuid}
        """,
        3,
        "connect.instances[0].id",
        "UUID",
    ),
    (
        "a policy that is not JSON",
        """\
        iam:
          users:
            - name: u
              policies:
                p: "{not json"
        """,
        5,
        "iam.users[0].policies.p",
        "not valid JSON",
    ),
    (
        "an unknown placeholder",
        """\
        connect:
          instances:
            - {alias: "a-{{ acount_id }}"}
        """,
        3,
        "connect.instances[0].alias",
        "unknown placeholder",
    ),
    (
        "a placeholder naming no instance",
        """\
        iam:
          roles:
            - name: R
              trust: {Resource: "{{ instances.nope.id }}"}
        """,
        4,
        "iam.roles[0].trust",
        "no instance has ref 'nope'",
    ),
    (
        "a name declared twice",
        """\
        iam:
          users:
            - name: u
            - name: u
        """,
        4,
        "iam.users[1]",
        "declared twice (first on line 3)",
    ),
    (
        "a duplicate key",
        """\
        iam:
          users: []
          users: []
        """,
        3,
        "iam.users",
        "duplicate key (first written on line 2)",
    ),
    (
        "a wrong type",
        """\
        connect:
          instances:
            - alias: a
              inbound_calls: maybe
        """,
        4,
        "connect.instances[0].inbound_calls",
        "true or false",
    ),
    (
        "a number out of range",
        """\
        iam:
          roles:
            - name: R
              trust: {}
              max_session_duration: 60
        """,
        5,
        "iam.roles[0].max_session_duration",
        "between 3600 and 43200",
    ),
    (
        "an unknown channel",
        """\
        connect:
          instances:
            - alias: a
              routing_profiles:
                - name: P
                  queues: [{queue: BasicQueue, channel: FAX}]
        """,
        6,
        "connect.instances[0].routing_profiles[0].queues[0].channel",
        "VOICE",
    ),
    (
        "two sources of metadata",
        """\
        iam:
          saml_providers:
            - {name: P, metadata: "<x/>", test_idp: true}
        """,
        3,
        "iam.saml_providers[0].test_idp",
        "exactly one of",
    ),
    (
        "an unreadable metadata file",
        """\
        iam:
          saml_providers:
            - {name: P, metadata_file: /nonexistent/idp.xml}
        """,
        3,
        "iam.saml_providers[0].metadata_file",
        "cannot be read",
    ),
    (
        "tags that are no mapping",
        """\
        iam:
          users:
            - name: u
              tags: [team]
        """,
        4,
        "iam.users[0].tags",
        "must map tag keys to values",
    ),
    (
        "a tag value that is no string",
        """\
        iam:
          roles:
            - name: R
              trust: {}
              tags: {cost-center: 1234}
        """,
        5,
        "iam.roles[0].tags.cost-center",
        "must be a string (quote numbers",
    ),
    (
        "a tag key IAM refuses",
        """\
        iam:
          roles:
            - name: R
              trust: {}
              tags:
                "team#1": agents
        """,
        6,
        "iam.roles[0].tags.team#1",
        "a tag key may not contain '#'",
    ),
    (
        "a tag value IAM refuses",
        """\
        iam:
          users:
            - name: u
              tags:
                team: "agents!"
        """,
        5,
        "iam.users[0].tags.team",
        "a tag value may not contain '!'",
    ),
    (
        "a tag key reserved for AWS",
        """\
        iam:
          users:
            - name: u
              tags: {"AWS:team": agents}
        """,
        4,
        "iam.users[0].tags.AWS:team",
        "reserved for AWS use",
    ),
    (
        "a tag key declared twice in another case",
        """\
        iam:
          roles:
            - name: R
              trust: {}
              tags:
                team: agents
                Team: supervisors
        """,
        7,
        "iam.roles[0].tags.Team",
        "declared twice (first as 'team' on line 6)",
    ),
    (
        "more tags than IAM keeps",
        "iam:\n  users:\n    - name: u\n      tags: {"
        + ", ".join(f"k{i}: v" for i in range(51))
        + "}\n",
        4,
        "iam.users[0].tags",
        "at most 50 tags",
    ),
    (
        "a Connect tag key reserved for AWS, in any case",
        """\
        connect:
          instances:
            - alias: a
              tags:
                team: agents
                "Aws:team": agents
        """,
        6,
        "connect.instances[0].tags.Aws:team",
        "Tag keys beginning with 'aws:' are reserved for AWS use: Aws:team",
    ),
    (
        "a Connect tag key outside the model's pattern",
        """\
        connect:
          instances:
            - alias: a
              users:
                - username: alice
                  tags: {"team#1": agents}
        """,
        6,
        "connect.instances[0].users[0].tags.team#1",
        "Member must satisfy regular expression pattern",
    ),
    (
        "a Connect tag key longer than the model allows",
        "connect:\n  instances:\n    - alias: a\n      agent_statuses:\n"
        + f"        - {{name: Lunch, tags: {{{'k' * 129}: v}}}}\n",
        5,
        "connect.instances[0].agent_statuses[0].tags." + "k" * 129,
        "Member must have length less than or equal to 128",
    ),
    (
        "a Connect tag value longer than the model allows",
        """\
        connect:
          instances:
            - alias: a
              queues:
                - name: Sales
                  tags:
                    team: agents
                    note: "VALUE"
        """.replace("VALUE", "v" * 257),
        8,
        "connect.instances[0].queues[0].tags.note",
        "Member must have length less than or equal to 256",
    ),
    (
        "a Connect tag value that is no string",
        """\
        connect:
          instances:
            - alias: a
              routing_profiles:
                - name: Sales agents
                  tags: {enabled: true}
        """,
        6,
        "connect.instances[0].routing_profiles[0].tags.enabled",
        "must be a string",
    ),
    (
        "Connect tags that are no mapping",
        """\
        connect:
          instances:
            - alias: a
              tags: [team]
        """,
        4,
        "connect.instances[0].tags",
        "must map tag keys to values",
    ),
    (
        "more tags than a Connect resource keeps",
        "connect:\n  instances:\n    - alias: a\n      tags: {"
        + ", ".join(f"k{i}: v" for i in range(51))
        + "}\n",
        4,
        "connect.instances[0].tags",
        "a Connect resource has at most 50 tags",
    ),
    (
        "an account id that is not 12 digits",
        """\
        accounts:
          - id: "123"
        """,
        2,
        "accounts[0].id",
        "12 digits",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_each_error_names_its_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    found = errors_of(text)
    assert any(at == line and f == field and message in m for at, f, m in found), found


def test_every_error_of_a_file_is_reported_at_once() -> None:
    found = errors_of("""\
        iam:
          users:
            - name: "bad name"
            - name: ok
              pollicies: {}
        connect:
          instances:
            - {id: x}
        """)
    assert [line for line, _, _ in found] == [3, 5, 8, 8]


def test_errors_print_as_file_line_column_field_message() -> None:
    with pytest.raises(WorldInvalid) as caught:
        parse("iam:\n  users:\n    - name: u\n      path: nope\n", "world.yaml")
    assert str(caught.value) == (
        "world.yaml:4:13: iam.users[0].path: 'nope' is not valid: / or /.../"
    )


def test_tags_are_read_in_the_files_order_as_strings() -> None:
    world = parse(
        textwrap.dedent("""\
        iam:
          users:
            - name: u
              tags: {team: agents, cost-center: "1234", note: ""}
          roles:
            - name: R
              trust: {}
        """),
        "world.yaml",
    )
    (user,) = world.accounts[0].users
    assert user.tags is not None
    assert [(t.key, t.value) for t in user.tags.tags] == [
        ("team", "agents"),
        ("cost-center", "1234"),
        ("note", ""),
    ]
    assert world.accounts[0].roles[0].tags is None  # none declared: the role's are left alone


def test_connect_tags_are_read_for_each_taggable_kind_with_case_sensitive_keys() -> None:
    world = parse(
        textwrap.dedent("""\
        connect:
          instances:
            - alias: a
              tags: {Team: Agents, team: agents, note: ""}
              agent_statuses: [{name: Lunch, tags: {kind: break}}]
              queues: [{name: Sales, tags: {line: sales}}]
              routing_profiles:
                - {name: Sales agents, default_outbound_queue: Sales, tags: {line: sales}}
              users:
                - username: alice
                  tags: {team: agents, cost-center: "1234"}
                - username: bob
        """),
        "world.yaml",
    )
    (instance,) = world.accounts[0].instances

    def pairs(tags: TagsSpec | None) -> list[tuple[str, str]]:
        assert tags is not None
        return [(t.key, t.value) for t in tags.tags]

    assert pairs(instance.tags) == [("Team", "Agents"), ("team", "agents"), ("note", "")]
    assert pairs(instance.agent_statuses[0].tags) == [("kind", "break")]
    assert pairs(instance.queues[0].tags) == [("line", "sales")]
    assert pairs(instance.routing_profiles[0].tags) == [("line", "sales")]
    assert pairs(instance.users[0].tags) == [("team", "agents"), ("cost-center", "1234")]
    assert instance.users[1].tags is None  # none declared: the user's are left alone
