"""The DOCTYPE/entity refusal holds for every encoding a parser could be tricked into (XML 1.0
§4.3.3, Appendix F): only UTF-8 reaches the parser, which decodes as UTF-8 whatever the document
says, loads no DTD and resolves no entity."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from connectfed.saml import xml
from connectfed.saml.assertion import AssertionRejected, verify_response
from connectfed.saml.metadata import InvalidMetadata, parse_metadata
from connectfed.saml.testidp import TestIdp

IDP = TestIdp(entity_id="https://idp.encodings.test")
RECIPIENT = "https://signin.aws.amazon.com/saml"
ROLES = [("arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:saml-provider/P")]
DTD = '<!DOCTYPE r [<!ENTITY big "boom">]>'


def _encodings(document: str) -> dict[str, bytes]:
    """``document`` (starting with its root) with a DTD, in every encoding variant."""

    def declared(name: str) -> str:
        return f'<?xml version="1.0" encoding="{name}"?>{DTD}{document}'

    plain = DTD + document
    return {
        "utf-16 with BOM, declared": declared("UTF-16").encode("utf-16"),
        "utf-16-le without BOM": plain.encode("utf-16-le"),
        "utf-16-be without BOM": plain.encode("utf-16-be"),
        "utf-16-be with BOM": b"\xfe\xff" + plain.encode("utf-16-be"),
        "utf-32 with BOM, declared": declared("UTF-32").encode("utf-32"),
        "utf-32-le without BOM": plain.encode("utf-32-le"),
        "utf-32-be without BOM": plain.encode("utf-32-be"),
        "declared ISO-8859-1": declared("ISO-8859-1").encode("latin-1"),
        "declared UTF-7, DTD hidden in UTF-7": (
            '<?xml version="1.0" encoding="UTF-7"?>' + "+ADw-!DOCTYPE r +AFs-+AF0-+AD4-" + document
        ).encode("ascii"),
        "declared EBCDIC": declared("IBM037").encode("cp037"),
        "utf-8 with BOM": b"\xef\xbb\xbf" + plain.encode(),
        "lower-case doctype": plain.replace("DOCTYPE", "doctype").encode(),
    }


RESPONSE = IDP.response(roles=ROLES, session_name="agent1", recipient=RECIPIENT).decode()
METADATA = IDP.metadata()


@pytest.mark.parametrize("variant", list(_encodings("<r/>")))
def test_the_parser_refuses_each_encoding_variant_before_parsing(variant: str) -> None:
    with pytest.raises(xml.UnsafeXml) as caught:
        xml.parse(_encodings("<r/>")[variant])
    assert "after parsing" not in str(caught.value)  # the DTD never reached libxml2


@pytest.mark.parametrize("variant", list(_encodings(RESPONSE)))
def test_saml_responses_in_each_encoding_variant_are_refused(variant: str) -> None:
    with pytest.raises(AssertionRejected) as caught:
        verify_response(
            _encodings(RESPONSE)[variant],
            metadata=parse_metadata(METADATA),
            recipients=[RECIPIENT],
            audiences=[RECIPIENT],
            now=datetime.now(UTC),
        )
    assert caught.value.reason == "not_saml"
    assert "after parsing" not in str(caught.value)


@pytest.mark.parametrize("variant", list(_encodings(METADATA)))
def test_metadata_in_each_encoding_variant_is_refused(variant: str) -> None:
    # The IAM API carries text: a client that read the bytes as Latin-1 sends these characters.
    with pytest.raises(InvalidMetadata) as caught:
        parse_metadata(_encodings(METADATA)[variant].decode("latin-1"))
    assert "after parsing" not in str(caught.value)


@pytest.mark.parametrize("declared", ["UTF-16", "ISO-8859-1", "UTF-7"])
def test_metadata_text_declaring_another_encoding_is_refused(declared: str) -> None:
    with pytest.raises(InvalidMetadata, match="only UTF-8"):
        parse_metadata(f'<?xml version="1.0" encoding="{declared}"?>{METADATA}')


def test_utf8_declared_and_bom_documents_are_accepted() -> None:
    assert (
        parse_metadata(f'<?xml version="1.0" encoding="utf-8"?>{METADATA}').entity_id
        == IDP.entity_id
    )
    assert xml.parse(b"\xef\xbb\xbf<r/>").tag == "r"


def test_the_parser_itself_loads_no_dtd_and_expands_no_entity(tmp_path: Path) -> None:
    """Defence in depth: even without the pre-parse check, lxml with our options neither reads
    files nor expands entities."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = (
        f'<!DOCTYPE r [<!ENTITY s SYSTEM "file://{secret}"><!ENTITY i "inner">]><r>&s;&i;</r>'
    ).encode()
    root = etree.fromstring(document, parser=xml.parser())
    assert "TOP-SECRET" not in etree.tostring(root).decode()
    assert "inner" not in "".join(root.itertext())
    external = f'<!DOCTYPE r SYSTEM "file://{secret}"><r/>'.encode()
    with pytest.raises(xml.UnsafeXml, match="external resources"):
        etree.fromstring(external, parser=xml.parser())
