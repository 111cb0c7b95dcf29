"""IAM principals, STS sessions and policy evaluation.

``principal`` is who signed a request; ``iam`` and ``sts`` are the services behind the IAM and
STS operations; ``credentials`` resolves an access key to a secret and a principal for SigV4;
``policy/`` parses and evaluates IAM policies. Knows nothing of HTTP or the wire.
"""
