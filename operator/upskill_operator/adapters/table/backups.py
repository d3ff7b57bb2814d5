"""UpskillTable's on-demand backups: each ``spec.backups`` entry is one CreateBackup, taken once.

A backup is named ``<table>-<name>`` (:func:`.restore_plan.backup_name`). Observe lists the table's
on-demand backups (one ListBackups, only when the spec asks for backups) and reports each entry
without a backup of that exact name as a diff; ``update`` creates the first one missing (the engine
calls again for the next). Looking the name up before creating is what makes a crash right after
CreateBackup harmless: the next pass finds it and never takes a second one.

Dropping an entry never deletes its backup. Finalization with ``deletionPolicy: Delete`` deletes
every on-demand backup named ``<table>-...`` (the resource's, including entries dropped since);
``Retain`` keeps them, as it keeps the table. AWS's system backups (the one left by deleting a table
with PITR on) are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from upskill_operator.adapters.table.restore_plan import backup_name, backup_status
from upskill_operator.adapters.table.table import TableObservation
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.dynamodb_backups import DynamoDBBackups
from upskill_operator.errors import NotFoundError
from upskill_operator.models.table import TableSpec
from upskill_operator.models.tags import owner_of
from upskill_operator.reconcile.protocol import DeletionPolicy, Observation, Steps, Target

__all__ = ["BackupsAdapter", "BackupsObservation"]


@dataclass(frozen=True)
class BackupsObservation(Observation):
    """The table's name and the wanted backups still missing (entry, DynamoDB name), in spec order."""

    table: str | None = None
    missing: tuple[tuple[str, str], ...] = ()
    ours: tuple[str, ...] = ()
    """ARNs of the on-demand backups named ``<table>-...`` (what deletionPolicy Delete removes)."""


class BackupsAdapter:
    """Implements the reconcile ``Adapter`` protocol for a table's on-demand backups."""

    name = "backups"
    owner_field = None  # backups carry no tags: they are the table's, which the table step already claimed

    def __init__(self, backups: DynamoDBBackups, dynamodb: DynamoDB) -> None:
        self.backups = backups
        self.dynamodb = dynamodb

    def wanted(self, target: Target, steps: Steps) -> bool:
        return True  # never retired: an entry dropped from the spec keeps its backup

    def observe(self, target: Target, steps: Steps) -> BackupsObservation:
        spec = target.spec
        if not isinstance(spec, TableSpec):
            raise TypeError(f"BackupsAdapter needs a TableSpec, got {type(spec).__name__}")
        if target.deleting:  # teardown walks in reverse: the table step has not observed yet
            return self._teardown(target)
        table = steps.get_step(TableObservation)
        if table is None or table.table is None:
            return BackupsObservation(exists=True)  # no table of ours this pass: nothing to back up
        name = table.table.name
        if not spec.backups:
            return BackupsObservation(exists=True, table=name, outputs={"backups": None})
        listed = self.backups.list_user_backups(name)
        by_name = {str(b.get("BackupName")): b for b in listed}
        entries = [(entry.name, backup_name(name, entry.name)) for entry in spec.backups]
        missing = tuple((entry, full) for entry, full in entries if full not in by_name)
        statuses = [backup_status(entry, full, by_name.get(full)) for entry, full in entries]
        creating = [full for full, b in by_name.items() if b.get("BackupStatus") == "CREATING"]
        return BackupsObservation(
            exists=True,
            up_to_date=not missing,
            diff=tuple(f"spec.backups[{entry}]" for entry, _ in missing),
            pending=f"backup {creating[0]} is CREATING" if creating and missing else None,
            outputs={"backups": statuses},
            table=name,
            missing=missing,
        )

    def _teardown(self, target: Target) -> BackupsObservation:
        """While deleting: the resource's backups exist until each is deleted, and only if the table was ours.

        Status publishes ``arn`` only for a table of ours (a foreign table's name is pinned, never its ARN), and
        a table still standing must still carry our owner tag: a resource that named another team's table
        never deletes that table's backups.
        """
        name, arn = target.recorded.text("tableName"), target.recorded.text("arn")
        if name is None or arn is None:
            return BackupsObservation(exists=False)
        try:
            if not target.is_ours(owner_of(self.dynamodb.list_tags_of_resource(arn))):
                return BackupsObservation(exists=False)
        except NotFoundError:
            pass  # the table is gone; its recorded ARN proves it was ours
        listed = self.backups.list_user_backups(name)
        ours = tuple(str(b["BackupArn"]) for b in listed if str(b.get("BackupName")).startswith(f"{name}-"))
        return BackupsObservation(exists=bool(ours), table=name, ours=ours)

    def create(self, target: Target, steps: Steps) -> None:
        """Never called: the step always exists (it is the table's set of backups)."""

    def update(self, target: Target, steps: Steps, observed: BackupsObservation) -> None:
        """Take the first missing backup; the engine re-observes and calls again for the next."""
        if observed.table is not None and observed.missing:
            self.backups.create_backup(observed.table, observed.missing[0][1])

    def delete(self, target: Target, steps: Steps, observed: BackupsObservation, policy: DeletionPolicy) -> None:
        """deletionPolicy Delete: delete the resource's on-demand backups (Retain never gets here)."""
        if policy != "Delete":
            return
        for arn in observed.ours:
            try:
                self.backups.delete_backup(arn)
            except NotFoundError:
                continue
