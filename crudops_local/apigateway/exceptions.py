"""API Gateway's own refusals, one exception class per kind, as LocalStack models them.

REST: one `GatewayResponseError` subclass per gateway response type. Each class knows
its response type (as `AWS::ApiGateway::GatewayResponse` spells it), the status API
Gateway answers when the template does not override it, the `x-amzn-ErrorType` it
sends, and its default message; a raiser raises the class (with a message of its own
where API Gateway's differs by case), and the REST handler renders whatever it
caught through the template's gateway responses
(crudops_local/apigateway/rest/gateway_responses.py). `DEFAULT_4XX` and `DEFAULT_5XX`
are the fallbacks a type without its own configured response renders with.

WebSocket: the management API (`@connections`) answers with AWS service errors,
one `ManagementApiError` subclass per error code (botocore maps the code of the
`x-amzn-ErrorType` header to `client.exceptions.<Code>`).

Types API Gateway has but the local gateway never raises (authorizers, API keys,
quotas, throttling) have their class too, so a template that customizes them reads
the same as one that does not, and the day they are emulated the raiser exists.
"""

from __future__ import annotations

from typing import ClassVar, Final

# What API Gateway sends in x-amzn-ErrorType for a type without a code of its own.
INTERNAL_ERROR_TYPE: Final = "InternalServerErrorException"


class GatewayResponseError(Exception):
    """A gateway response ends the request. Raise a subclass, never this class."""

    response_type: ClassVar[str]
    status: ClassVar[int]
    default_message: ClassVar[str]
    error_type: ClassVar[str] = INTERNAL_ERROR_TYPE

    def __init__(self, message: str | None = None, *, validation_error: str = "") -> None:
        self.message = self.default_message if message is None else message
        # `$context.error.validationErrorString`: why the request validator refused.
        self.validation_error = validation_error
        super().__init__(self.message)

    @classmethod
    def fallback_type(cls) -> str:
        """The type whose configured response renders this one when it has none."""
        return Default4xxError.response_type if cls.status < 500 else \
            Default5xxError.response_type


class Default4xxError(GatewayResponseError):
    response_type = "DEFAULT_4XX"
    status = 400
    default_message = "Bad Request"


class Default5xxError(GatewayResponseError):
    response_type = "DEFAULT_5XX"
    status = 500
    default_message = "Internal server error"


class AccessDeniedError(GatewayResponseError):
    response_type = "ACCESS_DENIED"
    status = 403
    error_type = "AccessDeniedException"
    default_message = "User is not authorized to access this resource"


class ApiConfigurationError(GatewayResponseError):
    """The template's API cannot serve the request (a mapping template that fails, no
    matching integration response, an integration type not emulated)."""

    response_type = "API_CONFIGURATION_ERROR"
    status = 500
    default_message = "Internal server error"


class AuthorizerConfigurationError(GatewayResponseError):
    response_type = "AUTHORIZER_CONFIGURATION_ERROR"
    status = 500
    default_message = "Internal server error"


class AuthorizerFailureError(GatewayResponseError):
    response_type = "AUTHORIZER_FAILURE"
    status = 500
    default_message = "Internal server error"


class BadRequestBodyError(GatewayResponseError):
    response_type = "BAD_REQUEST_BODY"
    status = 400
    default_message = "Invalid request body"
    error_type = "BadRequestException"


class BadRequestParametersError(GatewayResponseError):
    response_type = "BAD_REQUEST_PARAMETERS"
    status = 400
    default_message = "Missing required request parameters"
    error_type = "BadRequestException"


class ExpiredTokenError(GatewayResponseError):
    response_type = "EXPIRED_TOKEN"
    status = 403
    default_message = "The security token included in the request is expired"


class IntegrationFailureError(GatewayResponseError):
    response_type = "INTEGRATION_FAILURE"
    status = 504
    default_message = "Internal server error"


class IntegrationTimeoutError(GatewayResponseError):
    response_type = "INTEGRATION_TIMEOUT"
    status = 504
    default_message = "Endpoint request timed out"


class InvalidApiKeyError(GatewayResponseError):
    response_type = "INVALID_API_KEY"
    status = 403
    default_message = "Forbidden"


class InvalidSignatureError(GatewayResponseError):
    response_type = "INVALID_SIGNATURE"
    status = 403
    default_message = ("The request signature we calculated does not match the signature "
                       "you provided")


class MissingAuthenticationTokenError(GatewayResponseError):
    """No resource or method matches (API Gateway's answer to an unknown route)."""

    response_type = "MISSING_AUTHENTICATION_TOKEN"
    status = 403
    default_message = "Missing Authentication Token"
    error_type = "MissingAuthenticationTokenException"


class QuotaExceededError(GatewayResponseError):
    response_type = "QUOTA_EXCEEDED"
    status = 429
    default_message = "Limit Exceeded"


class RequestTooLargeError(GatewayResponseError):
    response_type = "REQUEST_TOO_LARGE"
    status = 413
    default_message = "Request Too Long"
    error_type = "RequestTooLargeException"


class ResourceNotFoundError(GatewayResponseError):
    response_type = "RESOURCE_NOT_FOUND"
    status = 404
    default_message = "Not Found"


class ThrottledError(GatewayResponseError):
    response_type = "THROTTLED"
    status = 429
    error_type = "TooManyRequestsException"
    default_message = "Too Many Requests"


class UnauthorizedError(GatewayResponseError):
    response_type = "UNAUTHORIZED"
    status = 401
    error_type = "UnauthorizedException"
    default_message = "Unauthorized"


class UnsupportedMediaTypeError(GatewayResponseError):
    response_type = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    default_message = "Unsupported Media Type"
    error_type = "UnsupportedMediaTypeException"


class WafFilteredError(GatewayResponseError):
    response_type = "WAF_FILTERED"
    status = 403
    default_message = "Forbidden"


def _gateway_errors() -> dict[str, type[GatewayResponseError]]:
    found: dict[str, type[GatewayResponseError]] = {}
    pending = list(GatewayResponseError.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.response_type] = cls
        pending.extend(cls.__subclasses__())
    return found


# response type → its class, e.g. "BAD_REQUEST_BODY" → BadRequestBodyError
GATEWAY_ERRORS: Final[dict[str, type[GatewayResponseError]]] = _gateway_errors()


# --- the WebSocket management API -----------------------------------------------------------
class ManagementApiError(Exception):
    """An `@connections` call refused, as AWS answers it. Raise a subclass."""

    code: ClassVar[str]
    status: ClassVar[int]
    # None: AWS sends `{"message": null}` (GoneException carries no message).
    default_message: ClassVar[str | None] = None

    def __init__(self, message: str | None = None) -> None:
        self.message = self.default_message if message is None else message
        super().__init__(self.message or self.code)


class GoneError(ManagementApiError):
    """The connection is unknown, closed, or still in `$connect`."""

    code = "GoneException"
    status = 410


class PayloadTooLargeError(ManagementApiError):
    code = "PayloadTooLargeException"
    status = 413
    default_message = "The data has exceeded the maximum size allowed"
