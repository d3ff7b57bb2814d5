"""Benchmark: restored UpskillTables through the operator vs the same restores with boto3 directly, on an idle bed.

    .venv/bin/python bench/recovery_table.py [N]        (default: 10 tables per path)

Per path (a point-in-time restore at the latest restorable time, and a restore from an on-demand
backup), the operator applies N restored tables and the script waits for all Ready; then it STOPS the
operator and runs the direct boto3 baseline on the same, now idle, emulators: the same end state
(restore with the same overrides, TagResource, UpdateTimeToLive, UpdateContinuousBackups, the
UpdateTable that turns the stream on), from a thread pool of the operator's worker count under its
client-side rate limit. ``rows()`` is what ``bench/recovery.py`` combines; figures go to
``.bench/figures.json`` under ``recovery_table``.

The source holds 100 items; the bed copies them in memory, so the figure is the control-plane cost of a
restore (AWS itself takes minutes to hours for a restore, growing with the table's size).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from upskill_operator.config import Settings

from common import REGION, Bed, bed, limited, print_table, ratios, ready_count, record, wait

NAMESPACE = "bench-recovery"
PLURAL = "upskilltables"
SOURCE = f"upskill-{NAMESPACE}-source"
OWNER = "upskill.io/owner"
HEADERS = ["restore path", "tables", "operator: apply→all Ready (s)", "boto3 direct, idle bed (s)", "operator/direct"]


def restored_doc(name: str, restore: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "upskill.io/v1alpha1",
        "kind": "UpskillTable",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "keys": {"partition": {"name": "pk", "type": "S"}, "sort": {"name": "sk", "type": "S"}},
            "ttlAttribute": "expiresAt",
            "stream": "NEW_IMAGE",
            "deletionProtection": False,
            "restore": restore,
        },
    }


def seed(ddb: Any) -> str:
    """The source table (this namespace's, PITR on, 100 items) and one on-demand backup; returns its ARN."""
    ddb.create_table(
        TableName=SOURCE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        Tags=[{"Key": OWNER, "Value": f"{NAMESPACE}/source"}],
    )
    ddb.update_continuous_backups(
        TableName=SOURCE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    for i in range(100):
        ddb.put_item(TableName=SOURCE, Item={"pk": {"S": f"p{i}"}, "sk": {"S": "0"}, "n": {"N": str(i)}})
    arn: str = ddb.create_backup(TableName=SOURCE, BackupName=f"{SOURCE}-bench")["BackupDetails"]["BackupArn"]
    return arn


def finish_one(ddb: Any, name: str, created: dict[str, Any]) -> None:
    """What the operator does after the restore call: tags, TTL, PITR, the stream."""
    ddb.tag_resource(ResourceArn=created["TableArn"], Tags=[{"Key": OWNER, "Value": f"{NAMESPACE}/{name}"}])
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
    ddb.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
    )
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})


def direct(url: str, count: int, workers: int, backup_arn: str | None) -> float:
    ddb = limited(boto3.client("dynamodb", endpoint_url=url, region_name=REGION), "dynamodb")
    ddb.list_tables()  # build the client's endpoint and credentials before the clock starts
    common = {"BillingModeOverride": "PAY_PER_REQUEST", "GlobalSecondaryIndexOverride": []}

    def one(i: int) -> None:
        name = f"direct-{'b' if backup_arn else 'p'}{i:03d}"
        if backup_arn:
            created = ddb.restore_table_from_backup(TargetTableName=name, BackupArn=backup_arn, **common)
        else:
            created = ddb.restore_table_to_point_in_time(
                SourceTableName=SOURCE, TargetTableName=name, UseLatestRestorableTime=True, **common
            )
        finish_one(ddb, name, created["TableDescription"])

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def through_operator(state: Bed, count: int, prefix: str, restore: dict[str, Any], done: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        state.kube.apply_manifest(restored_doc(f"{prefix}{i:03d}", restore))
    wait(lambda: ready_count(state.kube, PLURAL, NAMESPACE) == done + count, 60 + 5 * count, f"{count} restored", 0.5)
    return time.perf_counter() - started


def rows(count: int = 10) -> list[list[str]]:
    """Run both paths once; one printed row per path (the lead's bench/recovery.py prints them with its own)."""
    workers = Settings().workers
    with bed(30.0, NAMESPACE) as state:
        ddb = boto3.client("dynamodb", endpoint_url=state.aws.url, region_name=REGION)
        backup_arn = seed(ddb)
        time.sleep(3)  # the operator's watches settle
        pit = through_operator(state, count, "pit", {"pointInTime": {"sourceTableName": SOURCE, "latest": True}}, 0)
        bak = through_operator(state, count, "bak", {"fromBackup": {"backupArn": backup_arn}}, count)
        state.stop_operator()
        time.sleep(3)  # let the emulators finish the operator's last requests
        pit_direct = direct(state.aws.url, count, workers, None)
        bak_direct = direct(state.aws.url, count, workers, backup_arn)
    record("recovery_table", {"pit_ratio": pit / pit_direct, "backup_ratio": bak / bak_direct, "tables": count})
    return [
        ["table: point in time (latest)", str(count), f"{pit:.2f}", f"{pit_direct:.2f}", ratios(pit, pit_direct)[0]],
        ["table: from backup", str(count), f"{bak:.2f}", f"{bak_direct:.2f}", ratios(bak, bak_direct)[0]],
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print_table(HEADERS, rows(count))


if __name__ == "__main__":
    main()
