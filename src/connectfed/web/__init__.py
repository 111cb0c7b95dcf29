"""The browser side: SAML sign-in (POST /saml, role chooser, /connect/federate), the instance
sign-in URL and page, and the test IdP pages.

``signin`` is the flow, free of HTTP; ``pages`` renders HTML; ``routes`` is the thin ASGI layer.
"""
