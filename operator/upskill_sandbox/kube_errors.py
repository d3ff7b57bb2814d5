"""Kubernetes API errors as the emulator raises and renders them.

Clients (kopf, the official ``kubernetes`` client, kubectl) branch on the HTTP status code and on
``reason`` in the ``Status`` body, so both must be the ones a real API server sends.
Every constructor here mirrors the wording of the real server closely enough for log-reading humans.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import kmock

__all__ = [
    "ApiError",
    "Cause",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "not_found",
    "path_not_found",
    "status_body",
    "unsupported_media_type",
]


@attrs.frozen
class Cause:
    """One field-level failure, as listed in ``details.causes`` of an ``Invalid`` Status."""

    field: str
    message: str  # without the field prefix, e.g. 'Required value'
    reason: str = "FieldValueInvalid"

    def render(self) -> str:
        """The full text as it appears in the Status message: ``<field>: <message>``."""
        return f"{self.field}: {self.message}" if self.field else self.message


@attrs.frozen
class ApiError(kmock.KubernetesError):  # type: ignore[misc]
    """A Kubernetes API failure with the real status code, reason and details."""

    status: int = 500
    reason: str = "InternalError"
    message: str = ""
    details: dict[str, Any] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``v1/Status`` failure object; also used inside watch ``ERROR`` events."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def quote(value: str) -> str:
    """Quote a name the way Go's ``%q`` does (close enough: JSON string escaping)."""
    return json.dumps(value)


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    """The object does not exist (HTTP 404, reason ``NotFound``)."""
    details = {"name": name, "group": group, "kind": plural}
    return ApiError(404, "NotFound", f"{_qualified(group, plural)} {quote(name)} not found", details)


def path_not_found() -> ApiError:
    """The URL names no known resource or endpoint (HTTP 404, reason ``NotFound``)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(group: str, plural: str, name: str) -> ApiError:
    """A create hit an existing name (HTTP 409, reason ``AlreadyExists``)."""
    details = {"name": name, "group": group, "kind": plural}
    return ApiError(409, "AlreadyExists", f"{_qualified(group, plural)} {quote(name)} already exists", details)


def conflict(group: str, plural: str, name: str, why: str | None = None) -> ApiError:
    """Optimistic concurrency failed (HTTP 409, reason ``Conflict``)."""
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    message = f"Operation cannot be fulfilled on {_qualified(group, plural)} {quote(name)}: {why}"
    return ApiError(409, "Conflict", message, {"name": name, "group": group, "kind": plural})


def invalid(group: str, kind: str, name: str, causes: list[Cause]) -> ApiError:
    """The object failed validation (HTTP 422, reason ``Invalid``) with one cause per failed field."""
    rendered = [cause.render() for cause in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    details = {
        "name": name,
        "group": group,
        "kind": kind,
        "causes": [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes],
    }
    return ApiError(422, "Invalid", f"{qualified_kind} {quote(name)} is invalid: {summary}", details)


def bad_request(message: str) -> ApiError:
    """The request itself is malformed (HTTP 400, reason ``BadRequest``)."""
    return ApiError(400, "BadRequest", message, {})


def forbidden(message: str) -> ApiError:
    """The request is refused by policy, e.g. writing into a terminating namespace (HTTP 403)."""
    return ApiError(403, "Forbidden", message, {})


def method_not_allowed() -> ApiError:
    """The verb is not served on this URL (HTTP 405, reason ``MethodNotAllowed``)."""
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def unsupported_media_type(content_type: str) -> ApiError:
    """The PATCH content type is not one the server understands (HTTP 415)."""
    message = f"the body of the request was in an unknown format: {content_type}"
    return ApiError(415, "UnsupportedMediaType", message, {})


def expired(message: str) -> ApiError:
    """A resourceVersion or continue token is too old or unknown (HTTP 410, reason ``Expired``)."""
    return ApiError(410, "Expired", message, {})


def internal_error(message: str) -> ApiError:
    """The server failed (HTTP 500, reason ``InternalError``)."""
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {})
