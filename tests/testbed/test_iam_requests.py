"""What the enforcing bed asks IAM for one request, decided by our policy: an on-demand cluster snapshot.

CreateDBClusterSnapshot is authorised on two resources, as on AWS: the cluster (its tags: only ours)
and the new snapshot (the request's tags: the owner tag must be there), plus the tagging of the new
snapshot. The bed once asked only for the cluster, without its tags, and refused every snapshot that
``spec.snapshots`` takes.
"""

from __future__ import annotations

from typing import Any

import pytest

from upskill_operator.generate import iam_policy
from upskill_sandbox.iam_eval import evaluate
from upskill_sandbox.iam_requests import Lookups, authorizations

OWNER = "upskill.io/owner"


class _Tags(Lookups):
    """The emulator's tags, from a dict: cluster ARN -> tags."""

    def __init__(self, tags: dict[str, dict[str, str]]) -> None:
        super().__init__(lambda service, region: None, "eu-west-1", "111122223333")
        self.tags = tags

    def rds_tags(self, arn: str) -> dict[str, str]:
        return self.tags.get(arn, {})


def _params(cluster: str, tags: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {"DBClusterIdentifier": cluster, "DBClusterSnapshotIdentifier": f"{cluster}-before-0005"}
    for i, (key, value) in enumerate(tags.items(), start=1):
        params[f"Tags.Tag.{i}.Key"], params[f"Tags.Tag.{i}.Value"] = key, value
    return params


def _cluster_arn(name: str) -> str:
    return f"arn:aws:rds:eu-west-1:111122223333:cluster:{name}"


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return iam_policy.document()


def test_a_snapshot_of_our_cluster_tagged_as_ours_is_allowed_on_both_resources(policy: dict[str, Any]) -> None:
    ours = "upskill-e2e-course-db"
    look = _Tags({_cluster_arn(ours): {OWNER: "e2e/course-db"}})
    requests = authorizations("rds", "CreateDBClusterSnapshot", _params(ours, {OWNER: "e2e/course-db"}), look)
    assert [(r.action, r.resource.rsplit(":", 2)[-2]) for r in requests] == [
        ("rds:CreateDBClusterSnapshot", "cluster"),
        ("rds:CreateDBClusterSnapshot", "cluster-snapshot"),
        ("rds:AddTagsToResource", "cluster-snapshot"),
    ]
    assert [evaluate([policy], r).allowed for r in requests] == [True, True, True]


@pytest.mark.parametrize(
    ("cluster_tags", "request_tags", "refused"),
    [
        pytest.param({}, {OWNER: "e2e/course-db"}, "cluster", id="a cluster that is not ours"),
        pytest.param({OWNER: "e2e/course-db"}, {}, "cluster-snapshot", id="a snapshot without the owner tag"),
    ],
)
def test_a_snapshot_is_refused_where_it_is_not_ours(
    policy: dict[str, Any], cluster_tags: dict[str, str], request_tags: dict[str, str], refused: str
) -> None:
    name = "team-b-db"
    look = _Tags({_cluster_arn(name): cluster_tags})
    requests = authorizations("rds", "CreateDBClusterSnapshot", _params(name, request_tags), look)
    denied = {r.resource.rsplit(":", 2)[-2] for r in requests if not evaluate([policy], r).allowed}
    assert denied == {refused}
