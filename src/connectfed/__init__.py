"""connectfed: Amazon Connect SAML federation outside AWS."""

__version__ = "0.1.0"
