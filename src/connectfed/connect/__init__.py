"""Amazon Connect: instances, users, profiles, and federation (GetFederationToken).

``instances`` manages instances, their default profiles and users; ``federation`` turns an
authenticated principal into Connect tokens; ``throttle`` is the per-account rate limit;
``pages`` is a listing's page. Services take and return typed values (records, dataclasses,
enums) and refuse with domain exceptions (``errors``; policy denials and the authentication
layer's errors stay :class:`~connectfed.errors.ServiceError`, the same for every operation);
knows nothing of HTTP or the wire (AWS member names, NextTokens, error codes).
"""
