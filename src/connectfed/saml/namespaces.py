"""SAML 2.0 and XML Signature names (SAML core §1.2, §3.2.2.2, §8.3, profiles §3.3), and the
names of AWS's SAML attributes: every module that reads or writes one imports it from here."""

from __future__ import annotations

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
HTTP_POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
# An authentication context class (SAML authn context §3.4.13): no credential, a name.
PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105
# Name identifier formats (SAML core §8.3.7, §8.3.8).
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


def q(ns: str, name: str) -> str:
    """An lxml qualified name: ``{namespace}local``."""
    return f"{{{ns}}}{name}"


# AWS's SAML attributes (IAM user guide, "Configure SAML assertions for the authentication
# response").
AWS_ATTRIBUTES = "https://aws.amazon.com/SAML/Attributes/"
ROLE_ATTRIBUTE = AWS_ATTRIBUTES + "Role"
SESSION_NAME_ATTRIBUTE = AWS_ATTRIBUTES + "RoleSessionName"
SESSION_DURATION_ATTRIBUTE = AWS_ATTRIBUTES + "SessionDuration"
SOURCE_IDENTITY_ATTRIBUTE = AWS_ATTRIBUTES + "SourceIdentity"
TAG_ATTRIBUTE_PREFIX = AWS_ATTRIBUTES + "PrincipalTag:"
TRANSITIVE_TAG_KEYS_ATTRIBUTE = AWS_ATTRIBUTES + "TransitiveTagKeys"
