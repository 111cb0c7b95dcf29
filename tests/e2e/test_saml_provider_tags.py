"""Tags of IAM SAML providers through boto3 against a real server.

AWS (IAM API reference: CreateSAMLProvider's ``Tags``, TagSAMLProvider, UntagSAMLProvider,
ListSAMLProviderTags; GetSAMLProvider answers ``Tags``): IAM's tag rules, as for users and
roles (keys unique regardless of case, no ``aws:`` prefix, at most 50), and in policies
``aws:RequestTag``/``aws:TagKeys`` of tagging requests and ``aws:ResourceTag`` of the provider
acted on.
"""

from __future__ import annotations

import json
from pathlib import Path

from connectfed.saml.testidp import TestIdp
from tests.e2e.test_awscli import aws
from tests.e2e.test_connect_tags import Caller
from tests.e2e.test_iam_tags import DUPLICATE, _allow, _error, _name, _tags
from tests.support.aws_env import clean_env
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server


def _provider(server: Server, **kw: object) -> str:
    iam = server.client("iam")
    made = iam.create_saml_provider(
        Name=_name("TaggedIdp"), SAMLMetadataDocument=TestIdp().metadata(), **kw
    )
    return str(made["SAMLProviderArn"])


def test_created_with_tags_get_answers_them_and_they_can_be_changed(server: Server) -> None:
    iam = server.client("iam")
    made = iam.create_saml_provider(
        Name=_name("TaggedIdp"),
        SAMLMetadataDocument=TestIdp().metadata(),
        Tags=_tags(team="agents", Env="prod"),
    )
    arn = made["SAMLProviderArn"]
    assert made["Tags"] == _tags(team="agents", Env="prod")
    assert iam.get_saml_provider(SAMLProviderArn=arn)["Tags"] == _tags(Env="prod", team="agents")
    # A key held in another case is replaced in its place (IAM's rule).
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=_tags(TEAM="ops", Site="lyon"))
    listed = iam.list_saml_provider_tags(SAMLProviderArn=arn)
    assert listed["Tags"] == _tags(Env="prod", Site="lyon", TEAM="ops")
    assert listed["IsTruncated"] is False
    page = iam.list_saml_provider_tags(SAMLProviderArn=arn, MaxItems=2)
    assert page["Tags"] == _tags(Env="prod", Site="lyon") and page["IsTruncated"] is True
    rest = iam.list_saml_provider_tags(SAMLProviderArn=arn, Marker=page["Marker"])
    assert rest["Tags"] == _tags(TEAM="ops")
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team", "env", "absent"])
    assert iam.get_saml_provider(SAMLProviderArn=arn)["Tags"] == _tags(Site="lyon")
    # Other changes keep them; a provider with none answers none.
    iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=TestIdp().metadata())
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == _tags(Site="lyon")
    assert "Tags" not in iam.get_saml_provider(SAMLProviderArn=_provider(server))


def test_iams_tag_rules_are_its_errors(server: Server) -> None:
    iam = server.client("iam")
    name = _name("BadTags")
    for tags, code in (
        ([*_tags(a="1"), *_tags(A="2")], "InvalidInput"),
        (_tags(**{"aws:x": "1"}), "InvalidInput"),
    ):
        error = _error(
            iam.create_saml_provider,
            Name=name,
            SAMLMetadataDocument=TestIdp().metadata(),
            Tags=tags,
        )
        assert error["Code"] == code
    assert not [p for p in iam.list_saml_providers()["SAMLProviderList"] if p["Arn"].endswith(name)]
    arn = _provider(server, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(48)])
    error = _error(iam.tag_saml_provider, SAMLProviderArn=arn, Tags=[*_tags(a="1"), *_tags(A="2")])
    assert (error["Code"], error["Message"]) == ("InvalidInput", DUPLICATE)
    error = _error(iam.tag_saml_provider, SAMLProviderArn=arn, Tags=_tags(x="1", y="2", z="3"))
    assert (error["Code"], error["Status"]) == ("LimitExceeded", 409)
    assert error["Message"] == "Cannot exceed quota for TagsPerSAMLProvider: 50"
    missing = arn.rsplit("/", 1)[0] + "/NoSuchIdp"
    error = _error(iam.list_saml_provider_tags, SAMLProviderArn=missing)
    assert error["Code"] == "NoSuchEntity"


def test_tags_decide_who_acts_on_a_provider(server: Server) -> None:
    blue = _provider(server, Tags=_tags(team="blue"))
    red = _provider(server, Tags=_tags(team="red"))
    caller = Caller(server)
    caller.allow(
        _allow(
            ["iam:GetSAMLProvider", "iam:ListSAMLProviderTags"],
            StringEquals={"aws:ResourceTag/team": "blue"},
        ),
        _allow(
            ["iam:CreateSAMLProvider", "iam:TagSAMLProvider"],
            StringEquals={"aws:RequestTag/team": "blue"},
        ),
    )
    iam = caller.iam_client
    assert iam.get_saml_provider(SAMLProviderArn=blue)["Tags"] == _tags(team="blue")
    assert _error(iam.get_saml_provider, SAMLProviderArn=red)["Code"] == "AccessDenied"
    missing = blue.rsplit("/", 1)[0] + "/NoSuchIdp"
    assert _error(iam.get_saml_provider, SAMLProviderArn=missing)["Code"] == "AccessDenied"
    # Creating with tags needs TagSAMLProvider too; both see the request's tags.
    metadata = TestIdp().metadata()
    iam.create_saml_provider(
        Name=_name("Mine"), SAMLMetadataDocument=metadata, Tags=_tags(team="blue")
    )
    error = _error(
        iam.create_saml_provider,
        Name=_name("Mine"),
        SAMLMetadataDocument=metadata,
        Tags=_tags(team="red"),
    )
    assert error["Code"] == "AccessDenied"


def test_aws_cli_tags_a_provider_and_pages_its_tags(server: Server, tmp_path: Path) -> None:
    arn = _provider(server, Tags=_tags(team="agents"))
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET)
    common = ["--endpoint-url", server.url, "--region", "us-east-1"]
    aws("iam", "tag-saml-provider", "--saml-provider-arn", arn, "--tags", "Key=Env,Value=prod",
        "Key=Empty,Value=", *common, env=env)  # fmt: skip
    listing = ["iam", "list-saml-provider-tags", "--saml-provider-arn", arn, *common]
    everything = _tags(Empty="", Env="prod", team="agents")
    # The CLI follows IsTruncated/Marker by itself: one page a tag, merged.
    assert json.loads(aws(*listing, "--page-size", "1", env=env).stdout) == {"Tags": everything}
    first = json.loads(aws(*listing, "--page-size", "1", "--max-items", "2", env=env).stdout)
    assert first["Tags"] == everything[:2]
    rest = aws(*listing, "--page-size", "1", "--starting-token", first["NextToken"], env=env)
    assert json.loads(rest.stdout) == {"Tags": everything[2:]}
    aws("iam", "untag-saml-provider", "--saml-provider-arn", arn, "--tag-keys", "TEAM", "Empty",
        *common, env=env)  # fmt: skip
    got = json.loads(
        aws("iam", "get-saml-provider", "--saml-provider-arn", arn, *common, env=env).stdout
    )
    assert got["Tags"] == _tags(Env="prod")
    missing = arn.rsplit("/", 1)[0] + "/NoSuchIdp"
    refused = aws("iam", "list-saml-provider-tags", "--saml-provider-arn", missing, *common,
                  env=env, check=False)  # fmt: skip
    assert refused.returncode == 255
    assert (
        "(NoSuchEntity) when calling the ListSAMLProviderTags operation: "
        f"SAMLProvider {missing} does not exist." in refused.stderr
    )
