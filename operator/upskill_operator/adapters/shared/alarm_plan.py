"""The alarm set of one resource, planned: names, definitions, and the next write that brings AWS closer.

Pure functions. An alarm is named ``<prefix>-<namespace>-<name>-<slug>[-<index>]`` (the index is a
GSI's name or a DynamoDB operation), cut with a stable hash when longer than CloudWatch's 255
characters. Drift compares only the fields we set (:class:`AlarmDefinition`): a threshold changed in
the console is put back, while the state, its history and tags someone else added are left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from upskill_operator.aws.cloudwatch import ObservedAlarm
from upskill_operator.models.monitoring import AlarmDefault, AlarmDefinition, AlarmOverride

__all__ = [
    "MAX_NAME",
    "AlarmSource",
    "Step",
    "alarm_name",
    "candidates",
    "definitions",
    "differences",
    "next_step",
]

MAX_NAME = 255
"""CloudWatch's limit on an alarm name."""
_HASH = 8


@dataclass(frozen=True)
class AlarmSource:
    """One alarm a kind's defaults call for: which default, on which object, and its index."""

    kind: str
    """The wire key in ``spec.monitoring.alarms`` (``cpu``, ``indexReadThrottles``)."""
    default: AlarmDefault
    dimensions: tuple[tuple[str, str], ...]
    index: str | None = None


def alarm_name(base: str, slug: str, index: str | None = None) -> str:
    """``<base>-<slug>[-<index>]``, at most 255 characters: a longer name keeps its head and a hash of the whole."""
    full = "-".join(part for part in (base, slug, index) if part)
    if len(full) <= MAX_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH]
    return f"{full[: MAX_NAME - _HASH - 1]}-{digest}"


def definitions(
    base: str, sources: Sequence[AlarmSource], overrides: Mapping[str, AlarmOverride], actions: Sequence[str]
) -> list[AlarmDefinition]:
    """The alarms the spec wants, in source order: the defaults with the user's overrides, disabled kinds left out."""
    out: list[AlarmDefinition] = []
    for source in sources:
        override, default = overrides.get(source.kind) or AlarmOverride(), source.default
        if not override.enabled:
            continue
        evaluations = override.evaluation_periods or default.evaluation_periods
        subject = ", ".join(f"{k}={v}" for k, v in source.dimensions)
        out.append(
            AlarmDefinition(
                name=alarm_name(base, default.slug, source.index),
                namespace=default.namespace,
                metric=default.metric,
                dimensions=tuple(sorted(source.dimensions)),
                statistic=default.statistic,
                comparison=default.comparison,
                threshold=float(default.threshold if override.threshold is None else override.threshold),
                period=override.period or default.period,
                evaluation_periods=evaluations,
                datapoints_to_alarm=override.datapoints_to_alarm or min(default.datapoints_to_alarm, evaluations),
                treat_missing_data=default.treat_missing_data,
                actions=tuple(sorted(actions)),
                ok_actions=tuple(sorted(actions)),
                description=f"upskill-operator: spec.monitoring.alarms.{source.kind} of {base} ({subject})",
            )
        )
    return out


def candidates(base: str, names: Sequence[str], slugs: Sequence[str], indexed: Sequence[str]) -> list[str]:
    """The names among ``names`` that this resource's kinds could give: ``<base>-<slug>`` or, for an indexed
    kind, ``<base>-<slug>-<index>``. A longer name of another resource sharing the prefix is not one."""
    exact = {alarm_name(base, slug) for slug in slugs}
    heads = tuple(f"{base}-{slug}-" for slug in indexed)
    hashed = f"{base[: MAX_NAME - _HASH - 1]}" if len(base) > MAX_NAME - 40 else None
    return [n for n in names if n in exact or n.startswith(heads) or (hashed is not None and n.startswith(hashed))]


def differences(wanted: AlarmDefinition, seen: AlarmDefinition) -> tuple[str, ...]:
    """The managed fields (wire-ish names) where AWS differs from the spec; empty when it matches."""
    return tuple(f.name for f in fields(AlarmDefinition) if getattr(wanted, f.name) != getattr(seen, f.name))


@dataclass(frozen=True)
class Step:
    """The next write: put one alarm (``tags`` on create), tag one alarm, or delete alarms."""

    verb: str
    """``create``, ``put`` (repair drift), ``tag`` (adopt or restore our tags), ``delete``."""
    alarm: AlarmDefinition | None = None
    arn: str = ""
    names: tuple[str, ...] = ()


def next_step(
    wanted: Sequence[AlarmDefinition],
    ours: Mapping[str, ObservedAlarm],
    untagged: Mapping[str, ObservedAlarm],
) -> tuple[tuple[str, ...], list[Step]]:
    """(diff paths, writes in order) to make AWS hold exactly ``wanted``.

    ``ours`` are the existing alarms tagged for this resource, ``untagged`` those to adopt (tag first).
    Tags first (so a put never acts on an object not yet ours), then creates and repairs in spec order,
    then one DeleteAlarms for every alarm of ours the spec no longer asks for.
    """
    diff: list[str] = []
    steps: list[Step] = []
    for name, alarm in sorted(untagged.items()):
        diff.append(f"alarms[{name}].tags")
        steps.append(Step("tag", arn=alarm.arn))
    known = {**ours, **untagged}
    for definition in wanted:
        seen = known.get(definition.name)
        if seen is None:
            diff.append(f"alarms[{definition.name}]")
            steps.append(Step("create", alarm=definition))
            continue
        changed = differences(definition, seen.definition)
        if changed:
            diff.append(f"alarms[{definition.name}].{','.join(changed)}")
            steps.append(Step("put", alarm=definition))
    names = {d.name for d in wanted}
    extra = tuple(sorted(name for name in ours if name not in names))
    if extra:
        diff.append(f"alarms (not wanted: {', '.join(extra)})")
        steps.append(Step("delete", names=extra))
    return tuple(diff), steps
