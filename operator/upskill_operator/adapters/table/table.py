"""UpskillTable's adapter: one DynamoDB table, billed on demand.

Observe makes up to four reads (DescribeTable, DescribeTimeToLive,
DescribeContinuousBackups, ListTagsOfResource) and no writes; a KMS alias in
the spec costs one DescribeKey per cache period. With ``deep_read_seconds``,
the last three are remembered between passes (:mod:`.table_reads`), so a
steady-state resync is one DescribeTable and a deep read comes every
``deep_read_every`` resyncs, on a spec change, or when DescribeTable changed.
The comparison itself lives in :mod:`.table_state` and :mod:`.table_diff`
(pure, unit-tested); this module only does the I/O and hands the plan it
observed to ``update``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from upskill_operator.adapters.shared.data_gone import table_gone
from upskill_operator.adapters.shared.kms_key import spec_key_arn
from upskill_operator.adapters.shared.naming import aws_name, pinned, rival_namespaces
from upskill_operator.adapters.shared.read_memory import Cadence, Memory
from upskill_operator.adapters.shared.restore_source import INVALID
from upskill_operator.adapters.table.plan import Plan, plan_changes
from upskill_operator.adapters.table.reads import TableReads, after_create, fingerprint, settled_ttl, ttl_answer
from upskill_operator.adapters.table.restore import Restorer
from upskill_operator.adapters.table.restore_plan import restore_conflict, restored_from
from upskill_operator.adapters.table.state import (
    ObservedTable,
    TableState,
    create_request,
    desired_table,
    observed_table,
)
from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.kms import Kms
from upskill_operator.errors import NotFoundError, RecoverableError, TerminalError
from upskill_operator.models.table import TableSpec
from upskill_operator.models.tags import owner_of
from upskill_operator.reconcile.protocol import DeletionPolicy, Naming, Observation, Steps, Target

__all__ = ["TABLE_NAME_MAX", "TableAdapter", "TableObservation", "observed_with_key_arn"]

TABLE_NAME_MAX = 255


@dataclass(frozen=True)
class TableObservation(Observation):
    """An observation that also carries what update/delete need, so they do not read AWS again."""

    table: ObservedTable | None = None
    plan: Plan | None = None
    described: Mapping[str, Any] | None = None
    """The table answer this observation parsed (DescribeTable's, or CreateTable's)."""


def _existed(target: Target) -> bool:
    """Status records the table (its ARN): absent now means gone, not "not created yet"."""
    return bool(target.recorded.text("arn")) and not target.deleting


def _spec(target: Target) -> TableSpec:
    if not isinstance(target.spec, TableSpec):
        raise TypeError(f"TableAdapter needs a TableSpec, got {type(target.spec).__name__}")
    return target.spec


class TableAdapter:
    """Implements the reconcile ``Adapter`` protocol for a DynamoDB table."""

    name = "table"
    owner_field = "spec.tableName"

    def __init__(
        self,
        dynamodb: DynamoDB,
        kms: Kms,
        name_prefix: str,
        deep_reads: Cadence | None = None,
        restorer: Restorer | None = None,
    ) -> None:
        self.dynamodb = dynamodb
        self.kms = kms
        self.name_prefix = name_prefix
        self.restorer = restorer
        """Makes the table from ``spec.restore``; without one, a restore spec is refused at create."""
        deep_reads = deep_reads or Cadence(0.0, 0)
        self.reads = Memory[TableReads](deep_reads.max_age, max_uses=deep_reads.max_uses)
        """The deep reads of each table (by uid) while they stand; without a cadence, every read every pass."""

    def table_name(self, target: Target) -> str:
        """``spec.tableName``, or ``<prefix>-<namespace>-<name>`` (hashed when too long)."""
        return aws_name(
            self.name_prefix,
            target.namespace,
            target.name,
            max_length=TABLE_NAME_MAX,
            explicit=_spec(target).table_name,
            field="spec.tableName",
        )

    def naming(self, target: Target) -> Naming:
        """The table's name, the one derived without ``spec.tableName``, and the namespaces sharing it."""
        derived = aws_name(self.name_prefix, target.namespace, target.name, max_length=TABLE_NAME_MAX)
        return Naming(self.table_name(target), derived, rival_namespaces(target.namespace, target.name))

    def wanted(self, target: Target, steps: Steps) -> bool:
        return True

    def observe(self, target: Target, steps: Steps) -> TableObservation:
        name = pinned("spec.tableName", self.table_name(target), target.recorded.text("tableName"))
        try:
            raw, ttl, backups, tags = self._read(target, name)
        except NotFoundError:  # also when it vanished between two reads
            self.reads.forget(target.uid)
            lost = table_gone(name, self.dynamodb.list_backups(name)) if _existed(target) else None
            return TableObservation(exists=False, up_to_date=False, pinned={"tableName": name}, gone=lost)
        observed = observed_with_key_arn(observed_table(raw, ttl, backups, tags), self.kms)
        plan = plan_changes(self._desired(target, name), observed, target.recorded.managed_tag_keys)
        owner = owner_of(observed.tags)
        naming = self.naming(target)
        return TableObservation(
            exists=True,
            up_to_date=not plan.diff,
            diff=plan.diff,
            pending=plan.pending,
            owner=owner,
            naming=naming,
            made_here=owner is None and self._made_here(target, raw),
            conflicts=plan.conflicts + self._restore_conflict(target, raw),
            outputs={**_outputs(observed), "restoredFrom": restored_from(raw)},
            pinned={"tableName": name},  # of a foreign table, only the name is published
            managed_tags=frozenset(plan.managed_tag_keys),
            table=observed,
            plan=plan,
            described=raw,
        )

    def _read(
        self, target: Target, name: str
    ) -> tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any], Mapping[str, str]]:
        """DescribeTable (or the CreateTable answer just received), then each deep read that does not stand."""
        known = self.reads.recall(target.uid)
        reads = known.value if known is not None and known.value.generation == target.generation else None
        raw = reads.created if reads is not None and reads.created is not None else None
        if raw is None:
            raw = self.dynamodb.describe_table(name)
        shown = fingerprint(raw)
        if reads is not None and reads.fingerprint not in (None, shown):
            reads = None  # DescribeTable changed behind our back: read everything
        ttl = reads.ttl if reads is not None and reads.ttl is not None else None
        ttl = ttl if ttl is not None else self.dynamodb.describe_time_to_live(name)
        backups = reads.backups if reads is not None and reads.backups is not None else None
        backups = backups if backups is not None else self.dynamodb.describe_continuous_backups(name)
        tags = reads.tags if reads is not None and reads.tags is not None else None
        tags = tags if tags is not None else self.dynamodb.list_tags_of_resource(raw["TableArn"])
        carried = TableReads(target.generation, shown, settled_ttl(ttl), backups, tags)
        self.reads.remember(target.uid, "", carried, carried=known if reads is not None else None)
        return raw, ttl, backups, tags

    def create(self, target: Target, steps: Steps) -> None:
        """One CreateTable with keys, indexes, stream, SSE, deletion protection and tags; TTL and PITR follow.

        With ``spec.restore``: the restore call instead (after its source checks), then TagResource; the
        stream, TTL, PITR, deletion protection and new indexes follow as plan updates."""
        name = self.table_name(target)
        desired = self._desired(target, name)
        self.reads.forget(target.uid)
        restore = _spec(target).restore
        if restore is not None:
            if self.restorer is None:
                raise TerminalError("spec.restore: this operator has no restorer wired", reason=INVALID)
            created = self.restorer.restore(target, restore, desired)
            self.reads.remember(target.uid, "", after_create(target.generation, created, desired.tags))
            return
        created = self.dynamodb.create_table(name, **create_request(desired))
        self.reads.remember(target.uid, "", after_create(target.generation, created, desired.tags))

    def update(self, target: Target, steps: Steps, observed: TableObservation) -> None:
        """Apply the observed plan: tags, TTL, PITR, then at most one UpdateTable.

        The answers stand for the state they wrote (:mod:`.table_reads`), so the confirming observe reads
        only what an answer does not cover: the tags after a tag write, the table after an UpdateTable.
        """
        table, plan = self._current(target, steps, observed)
        known = self.reads.peek(target.uid)
        self.reads.forget(target.uid)  # until every write below went through
        ttl = backups = None
        if plan.tags_to_remove:
            self.dynamodb.untag_resource(table.arn, plan.tags_to_remove)
        if plan.tags_to_set:
            self.dynamodb.tag_resource(table.arn, plan.tags_to_set)
        if plan.ttl is not None:
            accepted = self.dynamodb.update_time_to_live(table.name, enabled=plan.ttl[0], attribute_name=plan.ttl[1])
            ttl = ttl_answer(accepted) if accepted else None
        if plan.pitr is not None:
            backups = self.dynamodb.update_continuous_backups(
                table.name, enabled=plan.pitr[0], recovery_period_days=plan.pitr[1]
            )
        if plan.table_update is not None:
            self.dynamodb.update_table(table.name, **plan.table_update.arguments())
        if known is not None:  # what the writes did not touch still stands; what they did is read again
            reads = known.value
            self.reads.remember(
                target.uid,
                "",
                replace(
                    reads,
                    fingerprint=None if plan.table_update is not None else reads.fingerprint,
                    ttl=ttl or (None if plan.ttl is not None else reads.ttl),
                    backups=backups or (None if plan.pitr is not None else reads.backups),
                    tags=None if plan.tags_to_set or plan.tags_to_remove else reads.tags,
                    created=observed.described if plan.table_update is None else None,
                ),
                carried=known,
            )

    def delete(self, target: Target, steps: Steps, observed: TableObservation, policy: DeletionPolicy) -> None:
        """Delete the table; AWS deletion protection is turned off first.

        The engine has already refused when ``spec.deletionProtection`` is true, so
        protection still on in AWS is a leftover to clear, not a user's wish.
        """
        if policy != "Delete":
            raise TerminalError(f"deletionPolicy {policy} is not supported for tables", reason="UnsupportedPolicy")
        table, _ = self._current(target, steps, observed)
        self.reads.forget(target.uid)
        if table.deletion_protection:
            self.dynamodb.update_table(table.name, deletion_protection=False)
        self.dynamodb.delete_table(table.name)

    def _restore_conflict(self, target: Target, raw: Mapping[str, Any]) -> tuple[str, ...]:
        restore = _spec(target).restore
        if restore is None or self.restorer is None:
            return ()
        found = restore_conflict(restore, raw, self.restorer.source_name(target, restore))
        return (found,) if found else ()

    def _made_here(self, target: Target, raw: Mapping[str, Any]) -> bool:
        """Untagged, and what this spec's restore made (a crash came between the restore and TagResource)."""
        restore = _spec(target).restore
        return restore is not None and self.restorer is not None and self.restorer.made_this(target, restore, raw)

    def _desired(self, target: Target, name: str) -> TableState:
        spec = _spec(target)
        key_arn = None
        if spec.encryption is not None:
            key_arn = spec_key_arn(self.kms, "spec.encryption.kmsKeyId", spec.encryption.kms_key_id)
        return desired_table(spec, name, {**spec.tags, **target.ownership_tags}, key_arn)

    def _current(self, target: Target, steps: Steps, observed: TableObservation) -> tuple[ObservedTable, Plan]:
        if observed.table is None or observed.plan is None:
            raise RecoverableError(f"table {self.table_name(target)} disappeared; the next pass re-creates it")
        return observed.table, observed.plan


def observed_with_key_arn(observed: ObservedTable, kms: Kms) -> ObservedTable:
    """Resolve the SSE key AWS reported to an ARN (some emulators echo the alias given at creation)."""
    if observed.kms_key is None:
        return observed
    try:
        return replace(observed, kms_key=kms.key_arn(observed.kms_key))
    except NotFoundError:
        return observed  # a key we cannot resolve simply differs from the spec's


def _outputs(observed: ObservedTable) -> dict[str, Any]:
    return {
        "tableName": observed.name,
        "arn": observed.arn,
        "streamArn": observed.stream_arn,
        "tableStatus": observed.status,
    }
