"""Amazon Connect: instances, users, profiles, and federation (GetFederationToken).

``instances`` manages instances, their default profiles and users; ``federation`` turns an
authenticated principal into Connect tokens; ``throttle`` is the per-account rate limit;
``pages`` is a listing's page. Services take and return typed values (records, dataclasses,
enums); knows nothing of HTTP or the wire (AWS member names, NextTokens).
"""
