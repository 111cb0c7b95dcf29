"""IAM principals, STS sessions and policy evaluation.

``principal`` is who signed a request; ``iam``, ``sts``, ``assume_saml`` and ``providers`` are
the services behind the IAM and STS operations (``sts_values`` are STS's typed answers);
``credentials`` resolves an access key to a secret and a principal for SigV4; ``policy/`` parses
and evaluates IAM policies. Services take and return typed values and refuse with domain
exceptions (``errors``); knows nothing of HTTP or the wire (AWS member names, envelopes and
error codes), except that policy denials and the authentication layer's errors are
:class:`~connectfed.errors.ServiceError` (the same for every operation).
"""
