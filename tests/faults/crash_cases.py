"""The crash scenarios: one per step the operator takes, each a small spec in a namespace of its own.

A scenario has a *prepared* state (brought to Ready by a clean operator before anything is
counted: a Deployment, or the resource before the change) and the *applied* documents whose
processing is counted and crashed. Databases use a minimal spec (Serverless v2, no proxy) and
the course example (a reader, the proxy and its read-only endpoint), without migrations or
probes: crash consistency is about AWS and Kubernetes objects, not about the schema. Secrets
write ``TOKEN`` of the Secret ``web-env``, which the Deployment ``web`` reads and which is rolled
when the value changes: a generated value, and a database URL (the minimal database's writer).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upskill_operator.generate import kubectl_yaml
from upskill_operator.models.common import API_GROUP, API_VERSION

__all__ = ["SCENARIOS", "Scenario"]

API = f"{API_GROUP}/{API_VERSION}"
EXAMPLES = Path(__file__).parents[2] / "manifests/examples/upskill-stack"
Docs = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True)
class Scenario:
    kind: str
    """What the crash points of this scenario cover (a label for reports)."""
    applied: Docs
    """The resources as the counted run applies them (their final state)."""
    prepared: Docs = list
    """Applied and brought to Ready before counting starts."""
    versions: Mapping[str, int] = field(default_factory=dict)
    """Secret versions each UpskillSecret must have at the end."""
    rolls: int = 0
    """How many times the counted run rolls the ``web`` Deployment."""
    done: Callable[[Mapping[str, Any]], bool] = lambda obj: True
    """Beyond Ready: the counted run's work shows in this resource's status."""
    master_versions: int | None = None
    """With a database: the versions its RDS-managed master secret must have (one per rotation,
    plus the first); RDS's rotation is played by :class:`faults.rds_rotation.RdsRotation`."""


def _resource(kind: str, name: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name, **meta}, "spec": spec}


def _table(name: str = "events", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "keys": {"partition": {"name": "pk", "type": "S"}, "sort": {"name": "sk", "type": "S"}},
        "ttlAttribute": "expiresAt",
        "stream": "NEW_AND_OLD_IMAGES",
        "pointInTimeRecovery": {"enabled": True, "recoveryPeriodDays": 35},
        "encryption": {"kmsKeyId": "alias/upskill"},
        "tags": {"app": "upskill"},
        "connection": {"configMapName": f"{name}-table"},
        **spec,
    }
    return _resource("UpskillTable", name, body)


BACKUP = {"name": "b1"}
LATEST = {"pointInTime": {"sourceTable": "events", "latest": True}}


def _restored(restore: dict[str, Any] = LATEST) -> dict[str, Any]:
    """A table restored from ``events`` (at its latest restorable time by default), without the index ``events`` has."""
    return _table("restored", restore=restore)


GSI = {"name": "byUser", "partition": {"name": "userId", "type": "S"}, "projection": "ALL"}


def _database(which: str, name: str = "db", **spec: Any) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(kubectl_yaml.load((EXAMPLES / f"{which}-db.yaml").read_text()))
    body = doc["spec"]
    for key in ("migrations", "probe", "monitoring"):  # alarms have scenarios of their own (tables')
        body.pop(key, None)
    body.update(spec)
    return _resource("UpskillDatabase", name, body)


def _deployment() -> dict[str, Any]:
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "web-env", "key": "TOKEN"}}}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web:1", "env": env}]},
            },
        },
    }


def _secret(**meta: Any) -> dict[str, Any]:
    spec = {
        "source": {"generate": {"length": 32, "excludePunctuation": True}},
        "rotation": {"everyDays": 30},
        "target": {"secretName": "web-env", "key": "TOKEN", "restartOnChange": [{"kind": "Deployment", "name": "web"}]},
    }
    return _resource("UpskillSecret", "token", spec, **meta)


def _url_secret(**meta: Any) -> dict[str, Any]:
    spec = {
        "source": {"database": {"ref": "db", "endpoint": "writer", "format": "url"}},
        "rotation": {"everyDays": 30},
        "target": {"secretName": "web-env", "key": "TOKEN", "restartOnChange": [{"kind": "Deployment", "name": "web"}]},
    }
    return _resource("UpskillSecret", "token", spec, **meta)


def _rotated(obj: Mapping[str, Any]) -> bool:
    """The UpskillSecret handled the rotation request (other kinds: nothing to wait for)."""
    return obj["kind"] != "UpskillSecret" or (obj.get("status") or {}).get("rotationRequest") == "now"


def _followed(obj: Mapping[str, Any]) -> bool:
    """The rotation asked of RDS arrived and the URL followed it."""
    status = obj.get("status") or {}
    if obj["kind"] != "UpskillSecret":
        return True
    return _rotated(obj) and not status.get("rotationRequestedTime") and bool(status.get("previousVersionId"))


MINIMAL_DB = {"proxy": {"enabled": False}}
SOURCE_DB = {**MINIMAL_DB, "databaseName": "src"}
RESTORED_DB = {**SOURCE_DB, "restore": {"pointInTime": {"sourceDatabase": "src", "latest": True}}}


SCENARIOS = (
    Scenario("table", lambda: [_table(globalIndexes=[GSI])]),
    Scenario("gsi", lambda: [_table(globalIndexes=[GSI])], prepared=lambda: [_table()]),
    Scenario("table-backup", lambda: [_table(backups=[{"name": "before-import"}])], prepared=lambda: [_table()]),
    Scenario(
        "table-restore",
        lambda: [_table(globalIndexes=[GSI]), _restored()],
        prepared=lambda: [_table(globalIndexes=[GSI])],
    ),
    Scenario(
        "table-restore-backup",
        lambda: [_table(backups=[BACKUP]), _restored({"fromBackup": {"sourceTable": "events", "backup": "b1"}})],
        prepared=lambda: [_table(backups=[BACKUP])],
    ),
    Scenario(
        "alarms", lambda: [_table(globalIndexes=[GSI], monitoring={})], prepared=lambda: [_table(globalIndexes=[GSI])]
    ),
    Scenario(
        "alarms-dropped",
        lambda: [_table(monitoring={"alarms": {"systemErrors": {"enabled": False}}})],
        prepared=lambda: [_table(monitoring={})],
    ),
    Scenario("database", lambda: [_database("auth", **MINIMAL_DB)]),
    Scenario("database+proxy", lambda: [_database("course")]),
    Scenario("database-snapshot", lambda: [_database("auth", **MINIMAL_DB, snapshots=[{"name": "before-0005"}])]),
    Scenario(
        "database-restore",
        lambda: [_database("auth", "src", **SOURCE_DB), _database("auth", **RESTORED_DB)],
        prepared=lambda: [_database("auth", "src", **SOURCE_DB)],
    ),
    Scenario("secret", lambda: [_secret()], prepared=lambda: [_deployment()], versions={"token": 1}),
    Scenario(
        "rotation",
        lambda: [_secret(annotations={"upskill.io/rotate": "now"})],
        prepared=lambda: [_deployment(), _secret()],
        versions={"token": 2},
        rolls=1,
        done=_rotated,
    ),
    Scenario(
        "database-url",
        lambda: [_database("auth", **MINIMAL_DB), _url_secret()],
        prepared=lambda: [_deployment(), _database("auth", **MINIMAL_DB)],
        versions={"token": 1},
        master_versions=1,
    ),
    Scenario(
        "database-url-rotation",
        lambda: [_database("auth", **MINIMAL_DB), _url_secret(annotations={"upskill.io/rotate": "now"})],
        prepared=lambda: [_deployment(), _database("auth", **MINIMAL_DB), _url_secret()],
        versions={"token": 2},
        rolls=1,
        done=_followed,
        master_versions=2,
    ),
)
