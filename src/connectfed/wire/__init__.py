"""AWS wire protocols driven by botocore's service models.

``model`` loads the models; ``validate`` checks parsed input against shape constraints;
``restjson`` and ``query`` parse requests and serialise responses and errors for restJson1 and
awsQuery; ``registry`` maps (service, operation) to handlers; ``dispatch`` runs the shared steps
(route, authenticate, parse, validate, call, serialise, map errors) once for every operation.
Knows shapes and protocols, never Connect or IAM rules: must not import any domain package.
"""
