"""Fixtures of the bed's own tests: one moto server per module, reached over HTTP as the operator reaches it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from upskill_sandbox.aws import MotoServer, Seed

REGION = "us-east-1"


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer() as aws:
        yield aws


@pytest.fixture
def seed(server: MotoServer) -> Iterator[Seed]:
    """A reset bed with the default VPC; the RDS final-snapshot knob put back afterwards."""
    server.reset()
    try:
        yield server.seed(REGION)
    finally:
        server.rds.final_snapshot_describes = 0
