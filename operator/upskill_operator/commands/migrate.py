"""``upskill-operator migrate``: apply a migration set, one line per file with its duration.

It replaces ``npm run setup-db``. The target is ``--database-url`` (or ``$DATABASE_URL``), or an
UpskillDatabase (``--database NAME -n NS``), reached like the operator reaches it: its read/write
endpoint, with an IAM auth token or the master password from its RDS-managed secret. The set is
``--set``, ``--dir``, or the database's own ``spec.migrations``. Nothing prints a password.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from psycopg.conninfo import conninfo_to_dict

from upskill_operator.adapters.database.migration_set import migration_set, writer_connection
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import Settings
from upskill_operator.db.migration_files import MigrationSet, MigrationSetError, builtin_set, load_directory
from upskill_operator.db.migrations import AppliedMigration, apply, plan
from upskill_operator.errors import OperatorError
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.kube.custom_status import get_custom_object
from upskill_operator.models.database import DatabaseSpec

__all__ = ["describe_url", "run"]


@dataclass(frozen=True)
class _Target:
    conninfo: str
    params: dict[str, Any]
    where: str
    spec: DatabaseSpec | None = None


def describe_url(conninfo: str) -> str:
    """user@host:port/dbname, without the password, for messages."""
    parts = conninfo_to_dict(conninfo)
    return (
        f"{parts.get('user', '')}@{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
    )


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    updates: dict[str, Any] = {}
    if args.migrations_dir:
        updates["migrations_dir"] = str(args.migrations_dir)
    if args.kubeconfig:
        updates["kubeconfig"] = str(args.kubeconfig)
    return settings.model_copy(update=updates) if updates else settings


def _database_target(args: argparse.Namespace, settings: Settings, kube: Kube) -> _Target:
    body = get_custom_object(kube, "upskilldatabases", args.namespace, args.database)
    if body is None:
        raise OperatorError(f"UpskillDatabase {args.namespace}/{args.database} not found", reason="NotFound")
    spec = DatabaseSpec.model_validate(dict(body.get("spec") or {}))
    owner = f"{args.namespace}/{args.database}"
    connection = writer_connection(spec, body.get("status") or {}, settings, AwsClients(settings.aws), owner)
    where = f"UpskillDatabase {args.namespace}/{args.database} via {connection.label} {connection.aws_host}"
    return _Target(connection.conninfo, connection.password_kwargs(), where, spec)


def _set(args: argparse.Namespace, settings: Settings, target: _Target, kube: Kube | None) -> MigrationSet:
    if args.set:
        return builtin_set(args.set, settings.migrations_dir)
    if args.dir:
        return load_directory(Path(args.dir))
    if target.spec is not None and target.spec.migrations is not None and kube is not None:
        return migration_set(target.spec.migrations, args.namespace, kube, settings)
    raise MigrationSetError("say which migrations to apply: --set, --dir, or a database with spec.migrations")


def _line(out: TextIO) -> Any:
    def progress(applied: AppliedMigration) -> None:
        print(f"  applied  {applied.name:<44} {applied.duration_seconds * 1000:9.1f} ms", file=out, flush=True)

    return progress


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    settings = _settings(args)
    kube: Kube | None = None
    try:
        if args.database:
            kube = Kube(load_configuration(settings.kubeconfig))
            target = _database_target(args, settings, kube)
        else:
            url = args.database_url or os.environ.get("DATABASE_URL")
            if not url:
                print("error: give --database-url, --database, or set DATABASE_URL", file=err)
                return 2
            target = _Target(url, {}, describe_url(url))
        chosen = _set(args, settings, target, kube)
        if args.dry_run:
            pending = plan(target.conninfo, chosen, **target.params)
            print(f"set {chosen.name} on {target.where}: {len(pending.applied)} applied", file=out)
            for migration in pending.pending:
                print(f"  pending  {migration.name}", file=out)
            print(f"{len(pending.pending)} would be applied (dry run)", file=out)
            return 0
        print(f"applying set {chosen.name} to {target.where}", file=out, flush=True)
        report = apply(target.conninfo, chosen, progress=_line(out), **target.params)
        print(
            f"{len(report.applied_now)} applied now, {report.applied_total} in total, latest {report.latest}",
            file=out,
        )
        return 0
    except (OperatorError, ValueError) as exc:  # ValueError: a bad set, an invalid spec
        print(f"error: {exc}", file=err)
        return 1
    finally:
        if kube is not None:
            kube.close()
