"""Classify botocore failures into the operator's taxonomy.

botocore's standard retry mode has already retried throttling and 5xx by the
time an error reaches us; what is left is either terminal (the request itself is
wrong, or we lack permission) or recoverable (still throttled, a resource busy).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from upskill_operator.errors import NotFoundError, OperatorError, RecoverableError, TerminalError

__all__ = ["AwsNotFoundError", "AwsRecoverableError", "AwsTerminalError", "classify", "outcome_label"]

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "LimitExceededException",
    }
)
BUSY = frozenset(
    {
        "ResourceInUseException",
        "BackupInUseException",  # DynamoDB: another backup of the table is being created or restored
        "InvalidDBClusterStateFault",
        "InvalidDBInstanceStateFault",
        "InvalidDBProxyStateFault",
        "InvalidDBProxyEndpointStateFault",
        "ConcurrentModificationException",
        "OperationAbortedException",
        "DependencyViolation",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServiceError",
    }
)
NOT_FOUND = frozenset(
    {
        "ResourceNotFoundException",
        "DBInstanceNotFound",
        "NoSuchEntity",
        "NotFoundException",
        "InvalidGroup.NotFound",
        "InvalidSubnetID.NotFound",
    }
)


class AwsNotFoundError(NotFoundError):
    reason = "NotFound"


class AwsTerminalError(TerminalError):
    pass


class AwsRecoverableError(RecoverableError):
    pass


def _is_not_found(code: str) -> bool:
    return code in NOT_FOUND or code.endswith(("NotFound", "NotFoundFault", "NotFoundException"))


def classify(exc: Exception, service: str, operation: str, *, safe_message: bool = True) -> OperatorError:
    """Map a botocore exception to NotFound, Terminal or Recoverable, keeping the AWS code as the reason.

    With ``safe_message=False`` (services whose messages may echo request content,
    such as Secrets Manager) the AWS message is dropped and only the code is kept.
    """
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        text = str(error.get("Message") or "") if safe_message else ""
        message = f"{service}:{operation} failed with {code}" + (f": {text}" if text else "")
        if _is_not_found(code):
            return AwsNotFoundError(message, reason=code.replace(".", ""))
        if code in THROTTLING or code in BUSY or status >= 500:
            return AwsRecoverableError(message, reason=code.replace(".", ""))
        return AwsTerminalError(message, reason=code.replace(".", ""))
    if isinstance(exc, (BotoCoreError, ResponseParserError)):
        # Connection resets, timeouts and unparseable responses (botocore's ResponseParserError is
        # no BotoCoreError): transient by nature.
        return AwsRecoverableError(f"{service}:{operation} failed: {type(exc).__name__}", reason="AwsUnreachable")
    return AwsRecoverableError(f"{service}:{operation} failed: {type(exc).__name__}", reason="AwsError")


def outcome_label(err: OperatorError) -> str:
    """A bounded label value for the call-latency histogram, for a call that failed with ``err``."""
    if isinstance(err, NotFoundError):
        return "not_found"
    if err.reason in THROTTLING:
        return "throttled"
    if isinstance(err, TerminalError):
        return "client_error"
    return "retryable_error"
