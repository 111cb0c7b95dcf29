"""Authentication and authorisation of AWS requests.

``sigv4`` is pure canonicalisation and signing (shared with ``connectfed.client``); ``verify``
checks a received request's signature; ``authorize`` turns a verified principal and an action into
an allow/deny through :mod:`connectfed.identity.policy`. Must not import ``wire`` or any domain
service package.
"""
