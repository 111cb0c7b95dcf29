"""The one hardened XML parser for everything SAML (no second parser anywhere).

No DTDs, no entities, no network, no XInclude, no huge trees; a ``<!DOCTYPE`` is refused before
parsing. Sizes are bounded by the callers before they get here.
"""

from __future__ import annotations

from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
    huge_tree=False, remove_comments=False, remove_pis=True, collect_ids=False,
)


class UnsafeXml(ValueError):
    pass


def parse(data: bytes) -> etree._Element:
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise UnsafeXml("DTDs and entities are not allowed")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeXml("DTDs are not allowed")
    return root


def parser() -> etree.XMLParser:
    return _PARSER
