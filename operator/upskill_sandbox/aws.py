"""Emulated AWS for the sandbox and the tests: a moto server on a real local socket.

The operator talks to it over HTTP exactly as it talks to AWS (only the endpoint
differs), so no boto3 patching is involved anywhere. :meth:`MotoServer.seed`
creates what a fresh account of the platform already has: the KMS key behind
``alias/upskill`` and a VPC with two private subnets in two availability zones.

RDS is served through our extension (:mod:`.rds_extension`): the proxy-endpoint and
ModifyDBProxy operations moto lacks, AWS's error codes where moto answers a 500 or silently
overwrites, and, when ``rds.pending_describes`` is set, the creating/modifying states AWS shows.

DynamoDB's deleted-table system backups and ListBackups' BackupType are :mod:`.dynamodb_extension`.
CloudWatch alarm states and PutMetricAlarm's validation are :mod:`.cloudwatch_extension`.
Other known moto 5.2.5 gaps (see ``testbed-notes.md``): DynamoDB is ACTIVE at once, a
disabled DynamoDB stream cannot be re-enabled, UpdateTable ignores SSE changes, and
state lives in memory (``reset`` clears it).
"""

from __future__ import annotations

import logging
import socket
import urllib.request
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import boto3

from upskill_sandbox import cloudwatch_extension, dynamodb_extension, secrets_extension
from upskill_sandbox.iam_enforcer import IamEnforcer
from upskill_sandbox.moto_app import ExtendedMotoServer, RdsEmulation

__all__ = ["KMS_ALIAS", "SANDBOX_TAG", "MotoServer", "Seed", "aws_env"]

KMS_ALIAS = "alias/upskill"
SANDBOX_TAG = "upskill.io/sandbox"
"""Tag on seeded objects, so a second ``seed`` finds them instead of duplicating them."""

_DUMMY_KEY = "testing"


def aws_env(url: str, region: str) -> dict[str, str]:
    """Environment variables that point boto3 and the AWS CLI at the emulator, with dummy credentials.

    Returned, not applied: the caller decides where they go (``os.environ`` in the
    sandbox, ``monkeypatch.setenv`` in tests, a subprocess's ``env``). Setting a
    session token too keeps a developer's real profile from ever being consulted.
    """
    return {
        "AWS_ACCESS_KEY_ID": _DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": _DUMMY_KEY,
        "AWS_SESSION_TOKEN": _DUMMY_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": url,
    }


def _check_port_free(host: str, port: int) -> None:
    """Fail fast: moto binds in its thread, and a failed bind there would leave ``start()`` waiting forever."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(f"cannot start the AWS emulator on {host}:{port}: {exc.strerror}") from exc


@dataclass(frozen=True)
class Seed:
    """Ids of what :meth:`MotoServer.seed` created in the emulated account."""

    region: str
    kms_key_arn: str
    kms_alias: str
    vpc_id: str
    subnet_ids: tuple[str, ...]


class MotoServer:
    """A moto server in a background thread, on 127.0.0.1.

    ``port=0`` picks a free port (tests); the sandbox passes a stable one so the
    endpoint it prints stays the same between runs. ``rds`` holds the RDS extension's
    knobs; they may be changed while the server runs. With ``enforcer``, requests signed by IAM
    principals of the emulated account are authorised against their policies (:mod:`.iam_enforcer`).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        quiet: bool = True,
        pending_describes: int = 0,
        enforcer: IamEnforcer | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._quiet = quiet
        self._server: ExtendedMotoServer | None = None
        self._url: str | None = None
        self.rds = RdsEmulation(pending_describes=pending_describes)
        self.enforcer = enforcer

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; only valid once started."""
        if self._url is None:
            raise RuntimeError("MotoServer is not started")
        return self._url

    def start(self) -> MotoServer:
        if self._server is not None:
            return self
        if self._quiet:
            # werkzeug logs every request at INFO and installs its own handler unless a level is set.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        _check_port_free(self._host, self._port)
        secrets_extension.install()  # AWS's behaviour where moto's Secrets Manager differs (see that module)
        dynamodb_extension.install()  # and where its DynamoDB does (a deleted table's system backup)
        cloudwatch_extension.install()  # and its CloudWatch (alarm states, PutMetricAlarm's validation)
        server = ExtendedMotoServer(
            self.rds, ip_address=self._host, port=self._port, verbose=not self._quiet, enforcer=self.enforcer
        )
        server.start()
        host, port = server.get_host_and_port()
        self._server, self._url = server, f"http://{host}:{port}"
        if self.enforcer is not None:
            self.enforcer.url = self._url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server, self._url = None, None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every emulated resource in every account and region (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310 - our own server
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for the emulator with dummy credentials, independent of the environment."""
        session = boto3.session.Session(
            aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY, region_name=region
        )
        return session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]

    def seed(self, region: str) -> Seed:
        """Create (or find, when already seeded) the KMS key and the VPC the platform expects."""
        key_arn = self.seed_kms(region)
        vpc_id, subnet_ids = self.seed_vpc(region)
        return Seed(region, key_arn, KMS_ALIAS, vpc_id, subnet_ids)

    def seed_kms(self, region: str) -> str:
        """Just the ``alias/upskill`` key (fast: tests of tables need nothing else); returns its ARN."""
        kms = self.client("kms", region)
        try:
            return str(kms.describe_key(KeyId=KMS_ALIAS)["KeyMetadata"]["Arn"])
        except kms.exceptions.NotFoundException:
            pass
        key = kms.create_key(
            Description="upskill sandbox key (SSE for tables and secrets)",
            Tags=[{"TagKey": SANDBOX_TAG, "TagValue": "true"}],
        )["KeyMetadata"]
        kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key["KeyId"])
        return str(key["Arn"])

    def seed_vpc(self, region: str) -> tuple[str, tuple[str, ...]]:
        """A tagged VPC with two private subnets in two zones; returns (vpc id, subnet ids). Slow-ish in moto."""
        ec2 = self.client("ec2", region)
        found = ec2.describe_vpcs(Filters=[{"Name": f"tag:{SANDBOX_TAG}", "Values": ["true"]}])["Vpcs"]
        if found:
            vpc_id = found[0]["VpcId"]
            subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
            return vpc_id, tuple(sorted(s["SubnetId"] for s in subnets))
        tags = [{"Key": SANDBOX_TAG, "Value": "true"}, {"Key": "Name", "Value": "upskill-sandbox"}]
        vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])[
            "Vpc"
        ]["VpcId"]
        subnet_ids = []
        for i, zone in enumerate((f"{region}a", f"{region}b")):
            subnet_tags = [
                *tags[:1],
                {"Key": "Name", "Value": f"upskill-private-{zone}"},
                {"Key": "tier", "Value": "private"},
            ]
            subnet = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=f"10.42.{i + 1}.0/24",
                AvailabilityZone=zone,
                TagSpecifications=[{"ResourceType": "subnet", "Tags": subnet_tags}],
            )["Subnet"]
            subnet_ids.append(subnet["SubnetId"])
        return vpc_id, tuple(sorted(subnet_ids))
