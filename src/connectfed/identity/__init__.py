"""IAM principals, STS sessions and policy evaluation.

``principal`` is who signed a request; ``iam``, ``sts``, ``assume_saml`` and ``providers`` are
the services behind the IAM and STS operations (``sts_values`` are STS's typed answers);
``credentials`` resolves an access key to a secret and a principal for SigV4; ``policy/`` parses
and evaluates IAM policies. Services take and return typed values; knows nothing of HTTP or the
wire (AWS member names and envelopes).
"""
