"""What a table's adapter remembers between passes: the reads beyond DescribeTable, and when they stand.

DescribeTable is read on every pass (the cheap read). DescribeTimeToLive, DescribeContinuousBackups
and ListTagsOfResource (the deep reads) are reused from the last pass while all of these hold:

- the memory is younger than its age limit (``deep_read_every`` resyncs, :mod:`.read_memory`);
- the spec's generation is the one they were read under;
- DescribeTable shows the same managed facts as then (its :func:`fingerprint`; the states AWS
  moves by itself, such as CREATING to ACTIVE, are left out);
- no write touched them since: a tag write drops the tags (read again next), the answers of
  UpdateTimeToLive (:func:`ttl_answer`) and UpdateContinuousBackups are the new TTL and backups
  facts, and after an UpdateTable the next DescribeTable is taken as the new fingerprint.

A table just created has TTL and PITR off and exactly the tags CreateTable carried, and the
CreateTable answer stands in for the DescribeTable right after it: the first observe reads nothing.
Likewise, after writes without an UpdateTable, the pass's DescribeTable (or CreateTable) answer
stands in for the confirming DescribeTable: creation to Ready is CreateTable plus the TTL and PITR
writes, with no read after them. The answers are confirmed by the next deep read (the cadence
above); a crash between a write and that read loses the memory, so the next pass reads everything.
Pure data and functions; the adapter does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from upskill_operator.adapters.table.state import ObservedTable, observed_table

__all__ = ["TableReads", "after_create", "fingerprint", "settled_ttl", "ttl_answer"]


@dataclass(frozen=True)
class TableReads:
    """The deep reads of one table as last known (None: read it on the next pass)."""

    generation: int
    fingerprint: ObservedTable | None
    """DescribeTable's managed facts when they were read; None accepts the next DescribeTable (after our write)."""
    ttl: Mapping[str, Any] | None = None
    backups: Mapping[str, Any] | None = None
    tags: Mapping[str, str] | None = None
    created: Mapping[str, Any] | None = None
    """A table answer (CreateTable's, or this pass's DescribeTable after our writes), used once instead of the
    DescribeTable that would follow it."""


def fingerprint(table: Mapping[str, Any]) -> ObservedTable:
    """The managed facts of a DescribeTable answer, without the transitional states AWS changes by itself."""
    seen = observed_table(table, {}, {}, {})
    indexes = {name: replace(index, status="") for name, index in seen.indexes.items()}
    return replace(seen, status="", sse_status=None, indexes=indexes)


def settled_ttl(ttl: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The TTL description worth remembering: None while ENABLING or DISABLING (read it again)."""
    return None if ttl.get("TimeToLiveStatus") in ("ENABLING", "DISABLING") else ttl


def after_create(generation: int, created: Mapping[str, Any], tags: Mapping[str, str]) -> TableReads:
    """What is known of a table CreateTable just made: no TTL, no PITR, the tags it was given."""
    return TableReads(
        generation=generation,
        fingerprint=None,
        ttl={"TimeToLiveStatus": "DISABLED"},
        backups={"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}},
        tags=dict(tags),
        created=created,
    )


def ttl_answer(accepted: Mapping[str, Any]) -> Mapping[str, Any]:
    """The TTL description an UpdateTimeToLive answer (its ``TimeToLiveSpecification``) stands for."""
    status = "ENABLED" if accepted.get("Enabled") else "DISABLED"
    return {"TimeToLiveStatus": status, "AttributeName": accepted.get("AttributeName")}
