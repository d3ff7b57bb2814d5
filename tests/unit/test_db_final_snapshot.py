"""Deleting a cluster with the Snapshot policy: the finalizer waits for the final snapshot, not for AWS's word.

The cluster adapter is driven by the engine against botocore's Stubber (real request validation),
for each state the final snapshot can be in once the cluster has disappeared.
"""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.adapters.database.cluster import ClusterAdapter
from upskill_operator.aws.kms import Kms
from upskill_operator.aws.rds import Rds
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Target

from unit.crd_support import example
from unit.stubbed_aws import stubbed

AUTH = example("UpskillDatabase", "auth-db")["spec"]
CLUSTER = "upskill-upskill-auth-db"
FINAL = f"{CLUSTER}-final-0a1b2c3d"


def deleting(policy: str) -> Target:
    spec = DatabaseSpec.model_validate({**AUTH, "deletionPolicy": policy, "deletionProtection": False})
    status = {"clusterArn": f"arn:aws:rds:us-east-1:123456789012:cluster:{CLUSTER}"}
    return Target("UpskillDatabase", "upskill", "auth-db", "0a1b2c3d-99", 2, spec, status, deleting=True)


def finalize(policy: str, snapshot: dict[str, Any] | None) -> tuple[State, str]:
    clients = AwsClients(AwsSettings(region="us-east-1", max_attempts=1, calls_per_second={}))
    rds, stubber = stubbed(Rds, clients)
    stubber.add_client_error(
        "describe_db_clusters", "DBClusterNotFoundFault", "gone", 404, expected_params={"DBClusterIdentifier": CLUSTER}
    )
    if policy == "Snapshot":
        if snapshot is None:
            stubber.add_client_error("describe_db_cluster_snapshots", "DBClusterSnapshotNotFoundFault", "no", 404)
        else:
            stubber.add_response(
                "describe_db_cluster_snapshots",
                {"DBClusterSnapshots": [{"DBClusterSnapshotIdentifier": FINAL, **snapshot}]},
                {"DBClusterSnapshotIdentifier": FINAL},
            )
    adapter = ClusterAdapter(rds, Kms(clients), "upskill")
    outcome = Engine([adapter]).finalize(deleting(policy))
    stubber.assert_no_pending_responses()
    return outcome.state, outcome.message


CASES = {
    "available snapshot releases": ("Snapshot", {"Status": "available", "PercentProgress": 100}, State.DELETED, ""),
    "creating snapshot holds": (
        "Snapshot",
        {"Status": "creating", "PercentProgress": 40},
        State.PROGRESSING,
        f"cluster: final snapshot {FINAL} is creating, 40%",
    ),
    "failed snapshot is terminal": ("Snapshot", {"Status": "failed"}, State.TERMINAL, f"final snapshot {FINAL} failed"),
    "never taken (cluster deleted elsewhere) does not hang": ("Snapshot", None, State.DELETED, ""),
    "Delete policy does not look for one": ("Delete", None, State.DELETED, ""),
}


@pytest.mark.parametrize(("policy", "snapshot", "state", "message"), CASES.values(), ids=CASES.keys())
def test_final_snapshot_gates_the_finalizer(
    policy: str, snapshot: dict[str, Any] | None, state: State, message: str
) -> None:
    got_state, got_message = finalize(policy, snapshot)
    assert got_state is state, got_message
    assert message in got_message
