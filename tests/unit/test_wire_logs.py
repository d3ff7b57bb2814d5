"""botocore and the Kubernetes client never log DEBUG records (request and response bodies) once pinned."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import boto3  # noqa: F401 - creates botocore's loggers, as the operator's import does
import kubernetes  # noqa: F401
import pytest

from upskill_operator.wire_logs import quiet_wire_loggers


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize("name", ["botocore.endpoint", "botocore.parsers", "urllib3.connectionpool", "kubernetes"])
def test_debug_bodies_are_dropped_even_when_a_level_is_lowered_later(collected: Collect, name: str) -> None:
    quiet_wire_loggers()
    logger = logging.getLogger(name)
    saved = logger.level
    try:
        logger.setLevel(logging.DEBUG)  # a developer's logging config, after the operator started
        logger.debug("Response body: %s", "SecretString=hunter2")
        logger.info("a useful line")
    finally:
        logger.setLevel(saved)
    messages = [r.getMessage() for r in collected.records if r.name == name]
    assert messages == ["a useful line"]


def test_the_operators_own_debug_logs_are_untouched(collected: Collect) -> None:
    quiet_wire_loggers()
    logging.getLogger().setLevel(logging.DEBUG)  # here too: a configured log_level is set again per phase
    logging.getLogger("upskill_operator.adapters.secret.secrets_manager").debug("step")
    assert [r.getMessage() for r in collected.records] == ["step"]
