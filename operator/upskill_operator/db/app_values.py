"""Connect with exactly what an app received: a URL or the fields of a JSON value, password or IAM token.

Nothing here formats a value: failures are reported with every
credential the value carried replaced by ``***``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["AppResult", "connect_app_value"]

TokenFn = Callable[[str, int, str, str], str]
"""(host, port, user, region) -> an IAM auth token."""


@dataclass(frozen=True)
class AppResult:
    ok: bool
    message: str
    seconds: float | None = None


def _params(fields: Mapping[str, str]) -> dict[str, str]:
    if fields.get("url"):
        params = {k: str(v) for k, v in conninfo_to_dict(fields["url"]).items() if v is not None}
    else:
        names = {"host": "host", "port": "port", "dbname": "dbname", "username": "user", "password": "password"}
        params = {ours: fields[theirs] for theirs, ours in names.items() if fields.get(theirs)}
        params |= {k: fields[k] for k in ("sslmode", "sslrootcert") if fields.get(k)}
    return params


def connect_app_value(
    fields: Mapping[str, str], token: TokenFn, region: str, timeout: float, read_only: bool
) -> AppResult:
    """``SELECT 1`` with the value; on a read-only endpoint also whether writes are refused."""
    params = _params(fields)
    hidden = [v for v in (fields.get("url"), fields.get("password"), params.get("password")) if v]
    try:
        if not params.get("password"):
            params["password"] = token(params["host"], int(params.get("port", "5432")), params["user"], region)
            hidden.append(params["password"])
        conninfo = make_conninfo("", **params, connect_timeout=str(max(1, int(timeout))))
        with psycopg.connect(conninfo, autocommit=True) as conn:
            start = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            seconds = time.perf_counter() - start
            if not read_only:
                return AppResult(True, "ok", seconds)
            row = conn.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").fetchone()
            if row and (row[0] or row[1] == "on"):
                return AppResult(True, "ok (writes refused)", seconds)
            return AppResult(False, "FAIL read-only endpoint accepts writes", seconds)
    except (psycopg.Error, KeyError, ValueError, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for value in hidden:
            text = text.replace(value, "***")
        return AppResult(False, f"FAIL {text}")
