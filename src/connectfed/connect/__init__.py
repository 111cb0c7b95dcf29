"""Amazon Connect: instances, users, profiles, and federation (GetFederationToken).

``instances`` manages instances, their default profiles and users; ``federation`` turns an
authenticated principal into Connect tokens; ``throttle`` is the per-account rate limit.
Knows nothing of HTTP or the wire.
"""
