"""SAML 2.0 service-provider side: IdP metadata, assertion verification, and a test IdP.

``xml`` is the one hardened parser; ``metadata`` reads IdP metadata (entityID, pinned signing
certificates); ``assertion`` verifies a SAMLResponse (signatures by libxmlsec1) and every rule of
shared/SECURITY.md and returns only what was signed; ``testidp`` mints signed responses for
tests and local use. Knows nothing of HTTP, IAM or storage.
"""
