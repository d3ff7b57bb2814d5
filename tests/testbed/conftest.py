"""Fixtures of the bed's own tests: one moto server per module, reached over HTTP as the operator reaches it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from upskill_sandbox.aws import MotoServer


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer() as aws:
        yield aws
