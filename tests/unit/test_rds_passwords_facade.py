"""RdsPasswords: RDS rotates the master password it manages, applied immediately."""

from __future__ import annotations

from upskill_operator.aws.rds_passwords import RdsPasswords

from unit.stubbed_aws import stubbed


def test_rotate_master_password_asks_rds_to_rotate_now() -> None:
    rds, stubber = stubbed(RdsPasswords)
    stubber.add_response(
        "modify_db_cluster",
        {"DBCluster": {"DBClusterIdentifier": "upskill-auth"}},
        {"DBClusterIdentifier": "upskill-auth", "RotateMasterUserPassword": True, "ApplyImmediately": True},
    )
    rds.rotate_master_password("upskill-auth")
    stubber.assert_no_pending_responses()
