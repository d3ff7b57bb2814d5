"""Verify an RDS IAM auth token, as an emulated RDS endpoint or RDS Proxy does.

A token is a SigV4 presigned ``connect`` request for service ``rds-db`` without its scheme:
``host:port/?Action=connect&DBUser=<user>&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<key>/<date>/
<region>/rds-db/aws4_request&X-Amz-Date=...&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=...``
(``@aws-sdk/rds-signer`` and boto3's ``generate_db_auth_token`` both make it). It is checked by
signing the same request again with botocore at the token's own ``X-Amz-Date``.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from botocore.auth import SIGV4_TIMESTAMP, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = ["MAX_EXPIRES", "SKEW", "TokenRefusedError", "verify_token"]

MAX_EXPIRES = 900
SKEW = datetime.timedelta(minutes=5)


class TokenRefusedError(Exception):
    """Why a token was refused (never contains the token)."""


def _fields(token: str) -> tuple[str, dict[str, str]]:
    netloc, sep, query = token.partition("/?")
    if not sep or not netloc:
        raise TokenRefusedError("not an IAM auth token")
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise TokenRefusedError("repeated token parameter")
    return netloc, fields


def verify_token(
    token: str,
    *,
    hosts: list[str],
    user: str,
    region: str,
    keys: Mapping[str, str],
    now: datetime.datetime | None = None,
) -> None:
    """Raise :class:`TokenRefusedError` unless ``token`` is a valid ``connect`` for ``user`` at one of ``hosts``."""
    netloc, fields = _fields(token)
    if netloc.lower() not in [h.lower() for h in hosts]:
        raise TokenRefusedError("the token was signed for another host or port")
    if fields.get("Action") != "connect":
        raise TokenRefusedError("the token's Action is not connect")
    if fields.get("DBUser") != user:
        raise TokenRefusedError("the token was signed for another user")
    if fields.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or fields.get("X-Amz-SignedHeaders") != "host":
        raise TokenRefusedError("the token is not a SigV4 presigned request signing the host")
    scope = fields.get("X-Amz-Credential", "").split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise TokenRefusedError("malformed credential scope")
    key_id, day, scope_region, service = scope[:4]
    if service != "rds-db":
        raise TokenRefusedError("the token was signed for another service than rds-db")
    if scope_region != region:
        raise TokenRefusedError("the token was signed for another region")
    secret = keys.get(key_id)
    if secret is None:
        raise TokenRefusedError("the token's access key is not known")
    try:
        signed = datetime.datetime.strptime(fields.get("X-Amz-Date", ""), SIGV4_TIMESTAMP).replace(tzinfo=datetime.UTC)
        expires = int(fields.get("X-Amz-Expires", ""))
    except ValueError:
        raise TokenRefusedError("malformed X-Amz-Date or X-Amz-Expires") from None
    if signed.strftime("%Y%m%d") != day:
        raise TokenRefusedError("the credential scope's date is not the signing date")
    if not 0 < expires <= MAX_EXPIRES:
        raise TokenRefusedError(f"X-Amz-Expires must be 1 to {MAX_EXPIRES} seconds")
    now = now or datetime.datetime.now(datetime.UTC)
    if signed > now + SKEW:
        raise TokenRefusedError("the token is dated in the future")
    if now > signed + datetime.timedelta(seconds=expires):
        raise TokenRefusedError("the token has expired")
    if not hmac.compare_digest(
        _signature(netloc, fields, key_id, secret, region, signed, expires), fields.get("X-Amz-Signature", "")
    ):
        raise TokenRefusedError("the token's signature does not match")


def _signature(
    netloc: str, fields: dict[str, str], key_id: str, secret: str, region: str, signed: datetime.datetime, expires: int
) -> str:
    params = {k: v for k, v in fields.items() if k != "X-Amz-Signature"}
    request = AWSRequest(method="GET", url=f"https://{netloc}/?{urlencode(params)}")
    request.context["timestamp"] = signed.strftime(SIGV4_TIMESTAMP)
    auth = SigV4QueryAuth(Credentials(key_id, secret, fields.get("X-Amz-Security-Token")), "rds-db", region, expires)
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))
