"""Typed clients for Amazon Connect's GetFederationToken (sync and asyncio), against real AWS
(``https://connect.<region>.amazonaws.com``) or a connectfed server.

Must not import the server side (``app``, ``wire``, ``store``, domain packages); it shares only
:mod:`connectfed.auth.sigv4` with it.
"""

from connectfed.client.config import ClientConfig, ConfigurationError, resolve_config
from connectfed.client.connect import AsyncConnectClient, ConnectClient, ParamValidationError
from connectfed.client.errors import (
    AccessDeniedException,
    AuthenticationError,
    ConnectfedError,
    ConnectTimeout,
    DuplicateResourceException,
    ExpiredTokenException,
    IncompleteSignatureException,
    InternalServiceException,
    InvalidParameterException,
    InvalidRequestException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    ReadTimeout,
    ResourceNotFoundException,
    ServiceError,
    ThrottlingException,
    TransportError,
    UnknownServiceError,
    UnrecognizedClientException,
    UserNotFoundException,
    parse_error,
)
from connectfed.client.models import FederationToken

__all__ = [
    "AccessDeniedException", "AsyncConnectClient", "AuthenticationError", "ClientConfig",
    "ConfigurationError", "ConnectClient", "ConnectTimeout", "ConnectfedError",
    "DuplicateResourceException", "ExpiredTokenException", "FederationToken",
    "IncompleteSignatureException", "InternalServiceException", "InvalidParameterException",
    "InvalidRequestException", "InvalidSignatureException",
    "MissingAuthenticationTokenException", "ParamValidationError", "ReadTimeout",
    "ResourceNotFoundException", "ServiceError", "ThrottlingException", "TransportError",
    "UnknownServiceError", "UnrecognizedClientException", "UserNotFoundException",
    "parse_error", "resolve_config",
]
