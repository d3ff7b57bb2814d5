"""boto3 clients are built per service on first use: a fleet of tables never pays for ec2's or rds's models."""

from __future__ import annotations

from botocore.stub import Stubber

from upskill_operator.aws.dynamodb import DynamoDB
from upskill_operator.aws.ec2 import Ec2
from upskill_operator.aws.rds import Rds
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings


def test_facades_build_their_client_on_the_first_call_only() -> None:
    clients = AwsClients(AwsSettings(region="us-east-1", max_attempts=1, calls_per_second={}))
    ddb, ec2, rds = DynamoDB(clients), Ec2(clients), Rds(clients)
    assert clients.built == frozenset(), "building the façades built no client"

    stubber = Stubber(clients.client("dynamodb"))
    stubber.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    with stubber:
        ddb.describe_time_to_live("t")

    assert clients.built == {"dynamodb"}
    assert ddb._client is clients.client("dynamodb"), "one client per service, reused"
    assert (ec2.service, rds.service) == ("ec2", "rds")
