"""The enforcing bed: every request signed by an IAM principal of the emulated account is authorised first.

moto can check IAM on a server (``INITIAL_NO_AUTH_ACTION_COUNT``), but that switch is global to the
process (every moto server of the test session would enforce), moto evaluates no condition, and for
RDS, DynamoDB and Secrets Manager it authorises against ``*`` rather than the resource's ARN, so a
resource-scoped grant never matches. This WSGI middleware does it per server, as AWS does:

1. the access key (and session token) is resolved to its user or assumed role by moto's own IAM
   authentication (:func:`moto.iam.access_control.create_access_key`), whose policies are the ones
   put with IAM calls;
2. :func:`.iam_requests.authorizations` lists what AWS authorises for the operation (actions,
   ARNs, condition keys read from the emulator's state);
3. :func:`.iam_eval.evaluate` decides each; one refusal answers the request as AWS does
   (``AccessDeniedException`` for JSON services, ``AccessDenied`` / EC2's ``UnauthorizedOperation``
   for query services) and nothing reaches moto.

Requests signed with the bed's own key (``testing``: seeding, fixtures, assertions) pass unchecked;
others must carry a valid SigV4 signature of the principal's secret key (moto's own check). Every
decision is kept in :attr:`log`, with the Sids that allowed it, so a test can show which grants a run
used.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import boto3
from moto.iam.access_control import CreateAccessKeyFailure, IAMRequest, create_access_key
from moto.iam.models import Policy

from upskill_sandbox.iam_eval import Decision, Request, evaluate
from upskill_sandbox.iam_requests import Lookups, UnmappedError, authorizations

__all__ = ["Decided", "IamEnforcer"]

DEFAULT_ACCOUNT = "123456789012"
_CREDENTIAL = re.compile(r"Credential=([^/,]+)/[^/]+/([^/]+)/([^/]+)/")
_JSON_SERVICES = frozenset({"dynamodb", "secretsmanager", "kms", "monitoring"})  # monitoring: CloudWatch
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Decided:
    principal: str
    request: Request
    decision: Decision


def _document(policy: Any) -> dict[str, Any]:
    if isinstance(policy, Policy):
        version = next(v for v in policy.versions if v.is_default)
        policy = version.document
    elif isinstance(policy, dict):
        policy = policy["policy_document"]
    loaded: dict[str, Any] = json.loads(policy) if isinstance(policy, str) else policy
    return loaded


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    out = {k[5:].replace("_", "-").title(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        out["Content-Type"] = environ["CONTENT_TYPE"]
    return out


def _operation(environ: dict[str, Any], body: bytes) -> tuple[str, dict[str, Any]]:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        params = json.loads(body or b"{}")
        return target.rpartition(".")[2], params if isinstance(params, dict) else {}
    params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    params.update(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    return str(params.get("Action", "")), params


class IamEnforcer:
    """Authorise every non-bed request against the caller's IAM policies (see the module docstring)."""

    def __init__(self, bed_key: str = "testing") -> None:
        self.bed_key = bed_key
        self.url: str | None = None
        self.log: list[Decided] = []
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            if (service, region) not in self._clients:
                session = boto3.session.Session(
                    aws_access_key_id=self.bed_key, aws_secret_access_key=self.bed_key, region_name=region
                )
                self._clients[service, region] = session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]
            return self._clients[service, region]

    def denied(self) -> list[Decided]:
        with self._lock:
            return [d for d in self.log if not d.decision.allowed]

    def wrap(self, app: WsgiApp) -> WsgiApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            refusal = self._check(environ)
            if refusal is None:
                return app(environ, start_response)
            status, content_type, body = refusal
            start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]

        return middleware

    def _check(self, environ: dict[str, Any]) -> tuple[str, str, bytes] | None:
        found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not found or found.group(1) == self.bed_key or environ.get("PATH_INFO", "").startswith("/moto-api"):
            return None
        key, region, service = found.groups()
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        operation, params = _operation(environ, body)
        if service == "sts" and operation == "GetCallerIdentity":
            return None  # AWS allows it to every principal, whatever its policies say
        account = environ.get("HTTP_X_MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT)
        try:
            principal = create_access_key(account, "aws", key, _headers(environ))
        except CreateAccessKeyFailure:
            return _refusal(service, f"The security token included in the request is invalid ({key[:4]}...)")
        if not _signed(environ, account, body, operation):
            return _refusal(service, "The request signature we calculated does not match the signature you provided")
        policies = [_document(p) for p in principal.collect_policies()]
        boundary = _boundary(principal)
        try:
            requests = authorizations(service, operation, params, Lookups(self._client, region, account))
        except UnmappedError as exc:
            return _refusal(service, f"the enforcing bed has no IAM mapping for {exc}")
        for request in requests:
            decision = evaluate(policies, request, boundary)
            with self._lock:
                self.log.append(Decided(principal.arn, request, decision))
            if not decision.allowed:
                message = (
                    f"User: {principal.arn} is not authorized to perform: {request.action} on resource: "
                    f"{request.resource} ({decision.reason})"
                )
                return _refusal(service, message)
        return None


def _signed(environ: dict[str, Any], account: str, body: bytes, operation: str) -> bool:
    """SigV4 checked as moto's own IAM access control does (with the principal's secret key)."""
    query = environ.get("QUERY_STRING", "")
    path = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
    try:
        IAMRequest(account, environ["REQUEST_METHOD"], path, {}, body, _headers(environ), operation).check_signature()
    except Exception:  # noqa: BLE001 - moto raises its own HTTP error classes for a bad signature
        return False
    return True


def _boundary(principal: Any) -> dict[str, Any] | None:
    """The permissions boundary of the principal's role or user (a managed policy), if it has one."""
    kind, _, path = principal.arn.rpartition(":")[2].partition("/")
    name = path.split("/")[0]
    try:
        entity = principal.backend.get_role(name) if kind == "assumed-role" else principal.backend.get_user(name)
    except Exception:  # noqa: BLE001 - moto's NoSuchEntity: no entity, no boundary
        return None
    arn = getattr(entity, "permissions_boundary_arn", None)
    return _document(principal.backend.get_policy(arn)) if arn else None


def _refusal(service: str, message: str) -> tuple[str, str, bytes]:
    if service in _JSON_SERVICES:
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        return "400 Bad Request", "application/x-amz-json-1.1", body
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if service == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>{escaped}</Message></Error></Errors>"
        )
        return "403 Forbidden", "text/xml", (xml + "<RequestID>bed</RequestID></Response>").encode()
    xml = f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escaped}</Message></Error>"
    return "403 Forbidden", "text/xml", (xml + "<RequestId>bed</RequestId></ErrorResponse>").encode()
