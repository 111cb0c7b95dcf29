"""SAML 2.0 and XML Signature names (SAML core §1.2, §3.2.2.2, profiles §3.3)."""

from __future__ import annotations

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


def q(ns: str, name: str) -> str:
    """An lxml qualified name: ``{namespace}local``."""
    return f"{{{ns}}}{name}"
