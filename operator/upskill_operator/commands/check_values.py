"""``check``'s app-value rows: each database UpskillSecret's target Secret, connected with as delivered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from upskill_operator.aws.rds_auth import RdsAuth
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.db.app_values import AppResult, connect_app_value
from upskill_operator.kube.secrets import KubeSecrets

__all__ = ["value_rows"]

READ_ONLY = ("proxyReadOnly", "reader")


def _fields(target: Mapping[str, Any], data: Mapping[str, str], json_form: bool) -> dict[str, str] | str:
    """The delivered fields, or why they cannot be read."""
    if target.get("key"):
        key = str(target["key"])
        if key not in data:
            return f"FAIL key {key} missing"
        if not json_form:
            return {"url": data[key]}
        try:
            loaded = json.loads(data[key])
        except ValueError:
            return f"FAIL key {key} is not JSON"
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else f"FAIL key {key}: not JSON"
    missing = [m["key"] for m in target.get("keys") or () if m["key"] not in data]
    if missing:
        return f"FAIL keys missing: {', '.join(missing)}"
    return {str(m["field"]): data[m["key"]] for m in target.get("keys") or ()}


def _row(
    body: Mapping[str, Any], secrets: KubeSecrets, settings: Settings, aws: AwsClients
) -> tuple[str, str, str, AppResult]:
    spec, namespace = body.get("spec") or {}, body["metadata"].get("namespace", "")
    database, target = spec["source"]["database"], spec.get("target") or {}
    endpoint = str(database.get("endpoint", "proxy"))
    source = f"Secret {target.get('secretName')}/{target.get('key') or ','.join(m['key'] for m in target['keys'])}"
    found = secrets.get(namespace, str(target["secretName"]))
    if found is None:
        return body["metadata"]["name"], source, endpoint, AppResult(False, "FAIL Secret not found")
    data = {k: v.get_secret_value() for k, v in found.data.items()}
    fields = _fields(target, data, database.get("format") == "json")
    if isinstance(fields, str):
        return body["metadata"]["name"], source, endpoint, AppResult(False, fields)
    region = fields.get("region") or settings.aws.region

    def token(host: str, port: int, user: str, region: str) -> str:
        clients = (
            aws if region == aws.settings.region else AwsClients(aws.settings.model_copy(update={"region": region}))
        )
        return RdsAuth(clients).token(host, port, user).get_secret_value()

    result = connect_app_value(fields, token, region, settings.probe_timeout_seconds, endpoint in READ_ONLY)
    return body["metadata"]["name"], source, endpoint, result


def value_rows(
    objects: list[dict[str, Any]], secrets: KubeSecrets, settings: Settings, aws: AwsClients
) -> list[tuple[str, str, str, AppResult]]:
    """(name, value source, endpoint, result) per UpskillSecret with a database source and a target."""
    wanted = [o for o in objects if ((o.get("spec") or {}).get("source") or {}).get("database")]
    return [_row(o, secrets, settings, aws) for o in wanted if (o.get("spec") or {}).get("target")]
