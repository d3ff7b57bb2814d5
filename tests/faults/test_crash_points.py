"""Crash consistency: kill the operator right after each write it makes, restart it, check everything.

For every scenario (:mod:`faults.crash_cases`: table, GSI, a minimal database, a database with
its proxy, target and read-only endpoint, an on-demand snapshot, a database restored from another's
latest restorable time, a secret's first version and sync, a rotation and its
restart, a database URL's first version, a database URL following an RDS master password
rotation) a clean run first records the ordered list of *steps*: every mutating AWS call
(service, operation) and every write to a Kubernetes object apps read (Secret, ConfigMap,
Deployment). Then, for each step ``i``, a fresh copy of the scenario runs with the operator
killed right after step ``i`` (:class:`~upskill_sandbox.crash.CrashSwitch`: the step
reaches AWS or the API server, nothing after it does: no status, no other write), and a new
operator is started. It must leave:

- exactly one of each AWS object, and exactly the secret versions asked for;
- no orphan: nothing named for the namespace that the resources do not ask for, every object
  tagged with its live owner and uid;
- status matching AWS (ARNs, endpoints, instances, version ids, the Kubernetes Secret's value,
  the restart mark), and the Deployment rolled exactly as often as the values changed;
- every resource Ready.

Crash points are enumerated from the clean run, so a new write is covered without editing this
file. By default each scenario crashes once after every *distinct* step (the first time it
appears); ``UPSKILL_CRASH_POINTS=all`` crashes after every step, repeats included. The counts are
printed at the end of the session.

Emulated beyond moto: RDS's side of RotateMasterUserPassword (:mod:`faults.rds_rotation`).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

from upskill_sandbox.crash import Step

from faults.crash_cases import SCENARIOS, Scenario
from faults.crash_runner import CrashBed
from faults.report import COVERED

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ALL = os.environ.get("UPSKILL_CRASH_POINTS", "") == "all"

REQUIRED = {
    "table": {Step("aws", "dynamodb", "CreateTable"), Step("kube", "configmaps", "ADDED")},
    "gsi": {Step("aws", "dynamodb", "UpdateTable")},
    "table-backup": {Step("aws", "dynamodb", "CreateBackup")},
    "table-restore-backup": {Step("aws", "dynamodb", "RestoreTableFromBackup"), Step("aws", "dynamodb", "TagResource")},
    "table-restore": {
        Step("aws", "dynamodb", "RestoreTableToPointInTime"),
        Step("aws", "dynamodb", "TagResource"),
        Step("aws", "dynamodb", "UpdateTable"),  # the stream a restore does not carry over
    },
    "alarms": {Step("aws", "cloudwatch", "PutMetricAlarm")},
    "alarms-dropped": {Step("aws", "cloudwatch", "DeleteAlarms")},
    "database": {Step("aws", "rds", "CreateDBCluster"), Step("aws", "rds", "CreateDBInstance")},
    "database+proxy": {
        Step("aws", "iam", "CreateRole"),
        Step("aws", "rds", "CreateDBProxy"),
        Step("aws", "rds", "RegisterDBProxyTargets"),
        Step("aws", "rds", "CreateDBProxyEndpoint"),
    },
    "database-snapshot": {Step("aws", "rds", "CreateDBCluster"), Step("aws", "rds", "CreateDBClusterSnapshot")},
    "database-restore": {Step("aws", "rds", "RestoreDBClusterToPointInTime"), Step("aws", "rds", "ModifyDBCluster")},
    "secret": {Step("aws", "secrets-manager", "CreateSecret"), Step("kube", "secrets", "ADDED")},
    "rotation": {
        Step("aws", "secrets-manager", "PutSecretValue"),
        Step("kube", "secrets", "MODIFIED"),
        Step("kube", "deployments", "MODIFIED"),
    },
    "database-url": {Step("aws", "secrets-manager", "CreateSecret"), Step("kube", "secrets", "ADDED")},
    "database-url-rotation": {
        Step("aws", "rds", "ModifyDBCluster"),
        Step("aws", "secrets-manager", "PutSecretValue"),
        Step("kube", "secrets", "MODIFIED"),
        Step("kube", "deployments", "MODIFIED"),
    },
}
"""Steps each scenario must record: the harness itself is checked, not only the operator."""


KNOWN_BUGS: dict[str, str] = {}
"""Scenarios a known operator bug fails; strict, so the fix shows as XPASS and the entry must go."""


def scenarios() -> list[Any]:
    return [
        pytest.param(s, id=s.kind, marks=[pytest.mark.xfail(reason=KNOWN_BUGS[s.kind], strict=True)])
        if s.kind in KNOWN_BUGS
        else pytest.param(s, id=s.kind)
        for s in SCENARIOS
    ]


def crash_points(steps: list[Step]) -> list[int]:
    """Every step with UPSKILL_CRASH_POINTS=all, else the first occurrence of each distinct step."""
    if ALL:
        return list(range(len(steps)))
    first: dict[Step, int] = {}
    for index, step in enumerate(steps):
        first.setdefault(step, index)
    return sorted(first.values())


@pytest.mark.parametrize("scenario", scenarios())
def test_a_kill_after_any_step_leaves_one_of_everything_ready(crash_bed: CrashBed, scenario: Scenario) -> None:
    steps = crash_bed.record(scenario)
    missing = REQUIRED[scenario.kind] - set(steps)
    assert not missing, f"the clean run never made {sorted(map(str, missing))}; it made {[str(s) for s in steps]}"
    covered: Counter[Step] = COVERED.setdefault(scenario.kind, Counter())
    failures = []
    for at in crash_points(steps):
        outcome = crash_bed.crash(scenario, at)
        if outcome.step is not None:
            covered[outcome.step] += 1
        where = f"killed after step {at} ({steps[at]})"
        if outcome.step != steps[at]:
            failures.append(f"{where}: the run's step {at} was {outcome.step}, not the clean run's")
        failures.extend(f"{where}: {problem}" for problem in outcome.problems)
        if failures and scenario.kind in KNOWN_BUGS:
            break  # known to fail: one failing crash point shows it, the rest would only cost time
    assert not failures, "\n".join(failures)
    assert sum(covered.values()) == len(crash_points(steps))
