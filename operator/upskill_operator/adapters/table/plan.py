"""Desired versus observed table: the diff, the conflicts, the wait, and the next writes.

:func:`plan_changes` is pure. It returns a :class:`Plan` that the adapter executes
as-is: tags, TTL and PITR (each its own API), plus at most ONE UpdateTable, since
DynamoDB allows one index creation or deletion per UpdateTable and the table
goes UPDATING afterwards. The engine re-observes and calls again for the rest.

Each diff entry names a wire path. Every update must either fix an entry or
replace it with a different one, because the engine reports NotConverged when
the same diff survives an update. Hence:

- one entry per index, ``spec.globalIndexes[byUser]``, so adding two indexes
  shows progress after the first;
- two-step replacements have a distinct first step, ``spec.stream (disable first)``
  or ``spec.globalIndexes[byUser] (replace: delete first)``, since AWS cannot
  change a stream's view type, a TTL attribute or an index's keys in place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from upskill_operator.adapters.table.state import (
    ObservedTable,
    TableState,
    attribute_definitions,
    index_request,
    same_keys,
)
from upskill_operator.models.tags import keys_after, tag_changes

__all__ = ["Plan", "TableUpdate", "pending_state", "plan_changes"]


@dataclass(frozen=True)
class TableUpdate:
    """The arguments of one ``DynamoDB.update_table`` call, and the diff entry it addresses."""

    path: str
    attribute_definitions: list[dict[str, str]] | None = None
    index_updates: list[dict[str, Any]] | None = None
    stream: dict[str, Any] | None = None
    sse: dict[str, Any] | None = None
    deletion_protection: bool | None = None
    billing_mode: str | None = None

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``update_table``, without the unset ones."""
        names = ("attribute_definitions", "index_updates", "stream", "sse", "deletion_protection", "billing_mode")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass(frozen=True)
class Plan:
    """What differs, what cannot change, what AWS is busy with, and the writes that make progress."""

    diff: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    pending: str | None = None
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_remove: tuple[str, ...] = ()
    managed_tag_keys: tuple[str, ...] = ()
    """Keys to record in status: the desired ones, plus managed ones not yet removed."""
    ttl: tuple[bool, str] | None = None
    """(enabled, attribute) for UpdateTimeToLive."""
    pitr: tuple[bool, int] | None = None
    """(enabled, recovery period days) for UpdateContinuousBackups."""
    table_update: TableUpdate | None = None
    """The first table-level change; the others follow on later calls."""


def pending_state(observed: ObservedTable) -> str | None:
    """A transitional state that forbids writes now, in words; None when the table is settled."""
    if observed.status != "ACTIVE":
        return f"table is {observed.status}"
    for index in observed.indexes.values():
        if index.status != "ACTIVE":
            return f"index {index.name} is {index.status}"
    if observed.ttl_status in ("ENABLING", "DISABLING"):
        return f"TTL is {observed.ttl_status}"
    if observed.sse_status in ("ENABLING", "DISABLING", "UPDATING"):
        return f"SSE is {observed.sse_status}"
    return None


def _conflicts(desired: TableState, observed: ObservedTable) -> tuple[str, ...]:
    if same_keys(desired.keys, observed.keys):
        return ()
    have, want = "/".join(map(str, observed.keys)), "/".join(map(str, desired.keys))
    return (f"spec.keys: immutable after creation (AWS has {have}, spec asks {want})",)


def _ttl(desired: TableState, observed: ObservedTable) -> tuple[str, tuple[bool, str]] | None:
    want, have = desired.ttl_attribute, observed.ttl_attribute
    if want == have:
        return None
    if have is None:
        return "spec.ttlAttribute", (True, str(want))
    if want is None:
        return "spec.ttlAttribute", (False, have)
    return "spec.ttlAttribute (disable first)", (False, have)  # AWS cannot rename the TTL attribute in place


def _pitr(desired: TableState, observed: ObservedTable) -> tuple[bool, int] | None:
    if not desired.pitr_enabled:
        return (False, desired.pitr_days) if observed.pitr_enabled else None
    if observed.pitr_enabled and observed.pitr_days == desired.pitr_days:
        return None
    return True, desired.pitr_days


def _stream(desired: TableState, observed: ObservedTable) -> TableUpdate | None:
    want, have = desired.stream, observed.stream
    if want == have:
        return None
    if want is None:
        return TableUpdate("spec.stream", stream={"StreamEnabled": False})
    if have is None:
        return TableUpdate("spec.stream", stream={"StreamEnabled": True, "StreamViewType": want})
    return TableUpdate("spec.stream (disable first)", stream={"StreamEnabled": False})


def _index_updates(desired: TableState, observed: ObservedTable) -> list[TableUpdate]:
    """Deletions first (they free index slots and make way for replacements), then creations."""
    deletes, creates = [], []
    for name, have in observed.indexes.items():
        want = desired.indexes.get(name)
        if want is None or not want.same_shape(have):
            path = f"spec.globalIndexes[{name}]" + (" (replace: delete first)" if want else "")
            deletes.append(TableUpdate(path, index_updates=[{"Delete": {"IndexName": name}}]))
    for name, want in desired.indexes.items():
        if name not in observed.indexes:
            # Every key attribute in use must be defined: some emulators replace the list wholesale.
            kept = [i.keys for n, i in desired.indexes.items() if n in observed.indexes]
            defs = attribute_definitions(desired.keys, *kept, want.keys)
            creates.append(
                TableUpdate(
                    f"spec.globalIndexes[{name}]",
                    attribute_definitions=defs,
                    index_updates=[{"Create": index_request(want)}],
                )
            )
    return deletes + creates


def _table_updates(desired: TableState, observed: ObservedTable) -> list[TableUpdate]:
    """Every table-level change, in the order they are applied, one per UpdateTable."""
    updates: list[TableUpdate] = []
    if observed.billing_mode != desired.billing_mode:
        updates.append(TableUpdate("billingMode", billing_mode=desired.billing_mode))
    if observed.deletion_protection != desired.deletion_protection:
        updates.append(TableUpdate("spec.deletionProtection", deletion_protection=desired.deletion_protection))
    if observed.kms_key != desired.kms_key:
        sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": desired.kms_key} if desired.kms_key else None
        updates.append(TableUpdate("spec.encryption", sse=sse or {"Enabled": False}))
    stream = _stream(desired, observed)
    if stream is not None:
        updates.append(stream)
    return updates + _index_updates(desired, observed)


def plan_changes(desired: TableState, observed: ObservedTable, managed_before: Collection[str] = ()) -> Plan:
    """Compare, and plan the writes of one ``update()``. ``managed_before`` is ``status.managedTagKeys``."""
    table_updates = _table_updates(desired, observed)
    ttl, pitr = _ttl(desired, observed), _pitr(desired, observed)
    to_set, to_remove = tag_changes(desired.tags, observed.tags, managed_before)
    diff = [update.path for update in table_updates]
    if ttl is not None:
        diff.append(ttl[0])
    if pitr is not None:
        diff.append("spec.pointInTimeRecovery")
    if to_set or to_remove:
        diff.append("tags")
    return Plan(
        diff=tuple(diff),
        conflicts=_conflicts(desired, observed),
        pending=pending_state(observed),
        tags_to_set=to_set,
        tags_to_remove=to_remove,
        managed_tag_keys=keys_after(desired.tags, to_remove),
        ttl=ttl[1] if ttl else None,
        pitr=pitr,
        table_update=table_updates[0] if table_updates else None,
    )
