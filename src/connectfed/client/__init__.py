"""Typed clients for Amazon Connect's GetFederationToken (sync and asyncio), against real AWS
(``https://connect.<region>.amazonaws.com``) or a connectfed server.

Must not import the server side (``app``, ``wire``, ``store``, domain packages); it shares only
:mod:`connectfed.auth.sigv4` with it.
"""

from typing import TYPE_CHECKING, Any

# Attributes are imported on first use, so a command that needs only the blocking client does
# not pay for asyncio (and the CLI stays within its start-up budget).
_HOMES = {
    "ClientConfig": "config",
    "ConfigurationError": "config",
    "NoCredentialsError": "config",
    "NoRegionError": "config",
    "Profile": "config",
    "load_profile": "config",
    "resolve_config": "config",
    "ConnectClient": "connect",
    "ParamValidationError": "connect",
    "AsyncConnectClient": "aio",
    "FederationToken": "models",
    "AdminClient": "admin",
    "AsyncAdminClient": "admin",
    "AdminError": "admin",
    "ClockState": "admin",
    "Fault": "admin",
    "FaultSpec": "admin",
    "botocore_clock": "admin",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _HOMES.get(name, "errors")
    value = getattr(importlib.import_module(f"connectfed.client.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from connectfed.client.admin import (
        AdminClient,
        AdminError,
        AsyncAdminClient,
        ClockState,
        Fault,
        FaultSpec,
        botocore_clock,
    )
    from connectfed.client.aio import AsyncConnectClient
    from connectfed.client.config import (
        ClientConfig,
        ConfigurationError,
        NoCredentialsError,
        NoRegionError,
        Profile,
        load_profile,
        resolve_config,
    )
    from connectfed.client.connect import ConnectClient, ParamValidationError
    from connectfed.client.errors import (
        AccessDeniedException,
        AuthenticationError,
        ClientClosedError,
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
    "AccessDeniedException",
    "AdminClient",
    "AdminError",
    "AsyncAdminClient",
    "AsyncConnectClient",
    "AuthenticationError",
    "ClientClosedError",
    "ClientConfig",
    "ClockState",
    "ConfigurationError",
    "ConnectClient",
    "ConnectTimeout",
    "ConnectfedError",
    "DuplicateResourceException",
    "ExpiredTokenException",
    "Fault",
    "FaultSpec",
    "FederationToken",
    "IncompleteSignatureException",
    "InternalServiceException",
    "InvalidParameterException",
    "InvalidRequestException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "NoCredentialsError",
    "NoRegionError",
    "ParamValidationError",
    "Profile",
    "ReadTimeout",
    "ResourceNotFoundException",
    "ServiceError",
    "ThrottlingException",
    "TransportError",
    "UnknownServiceError",
    "UnrecognizedClientException",
    "UserNotFoundException",
    "botocore_clock",
    "load_profile",
    "parse_error",
    "resolve_config",
]
