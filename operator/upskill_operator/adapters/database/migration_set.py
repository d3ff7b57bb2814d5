"""Migrations for an UpskillDatabase: which set (built in, or a ConfigMap of SQL files) and where to apply it.

Shared by the operator (``handlers/migrations.py``) and ``upskill-operator migrate --database``:
the set comes from ``spec.migrations`` (``set: betterauth|course`` or ``configMapName``), the
connection is the read/write endpoint that :mod:`.db_connection` describes (the proxy's, else
the cluster writer's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.database.connection import DbConnection, connections, endpoint_labels
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.db.migration_files import MigrationSet, MigrationSetError, builtin_set, load_mapping
from upskill_operator.db.migrations import MigrationReport, Progress, Stage, apply, no_stage
from upskill_operator.errors import RecoverableError, TerminalError
from upskill_operator.kube.client import Kube
from upskill_operator.models.database import DatabaseSpec, MigrationsSpec

__all__ = ["apply_database_migrations", "configmap_set", "migration_set", "writer_connection"]


def configmap_set(kube: Kube, namespace: str, name: str) -> MigrationSet:
    """The ``*.sql`` keys of a ConfigMap as a set named ``configmap/<name>``."""
    found = kube.get_config_map(namespace, name)
    if found is None:
        raise RecoverableError(f"ConfigMap {namespace}/{name} (spec.migrations) does not exist", reason="NoMigrations")
    try:
        return load_mapping(f"configmap/{name}", found.get("data") or {}, origin=f"ConfigMap {namespace}/{name}")
    except MigrationSetError as exc:
        raise TerminalError(str(exc), reason="InvalidMigrations") from None


def migration_set(spec: MigrationsSpec, namespace: str, kube: Kube, settings: Settings) -> MigrationSet:
    """The set ``spec.migrations`` names."""
    if spec.config_map_name:
        return configmap_set(kube, namespace, spec.config_map_name)
    try:
        return builtin_set(str(spec.migration_set), settings.migrations_dir)
    except MigrationSetError as exc:
        raise TerminalError(str(exc), reason="InvalidMigrations") from None


def writer_connection(
    spec: DatabaseSpec, status: Mapping[str, Any], settings: Settings, aws: AwsClients, owner: str
) -> DbConnection:
    """The read/write endpoint's connection (credentials of ``owner``'s cluster only); Recoverable until status
    publishes it."""
    label = endpoint_labels(spec)[0]
    found = connections(spec, status, settings, aws, labels=(label,), owner=owner)
    if not found:
        raise RecoverableError(f"status.endpoints.{label} is not published yet", reason="EndpointPending")
    return found[0]


def apply_database_migrations(
    body: Mapping[str, Any],
    settings: Settings,
    aws: AwsClients,
    kube: Kube,
    *,
    progress: Progress | None = None,
    stage: Stage = no_stage,
) -> MigrationReport:
    """Apply the resource's ``spec.migrations`` through its read/write endpoint; ``stage`` is told each step."""
    stage("reading the migration set")
    spec = DatabaseSpec.model_validate(dict(body.get("spec") or {}))
    if spec.migrations is None:
        raise TerminalError("spec.migrations is not set", reason="NoMigrations")
    metadata = body.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "")
    chosen = migration_set(spec.migrations, namespace, kube, settings)
    owner = f"{namespace}/{metadata.get('name') or ''}"
    connection = writer_connection(spec, body.get("status") or {}, settings, aws, owner)
    stage(f"reading the credentials for the {connection.label} endpoint")
    credentials = connection.password_kwargs()
    return apply(
        connection.conninfo,
        chosen,
        progress=progress,
        stage=stage,
        connect_timeout=settings.probe_timeout_seconds * 2,
        **credentials,
    )
