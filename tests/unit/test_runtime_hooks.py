"""The operator's hooks: attempt and call observers on AwsClients, pass observers on engines, joined live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from upskill_operator.aws.rds_passwords import RdsPasswords
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.reconcile.protocol import Target
from upskill_operator.wiring.runtime import Hooks

from unit.fake_adapter import FakeAdapter
from unit.test_aws_call_outcomes import _OK, _answer
from unit.test_engine import SYNCED, target


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "t")


def test_one_logical_call_holds_its_observer_around_every_attempt(credentials: None) -> None:
    hooks, events = Hooks(), []
    unavailable, ok = _answer(503, b""), _answer(200, _OK)

    def attempt(service: str, operation: str) -> Any:
        events.append(f"attempt {operation}")
        return unavailable(service, operation) if events.count(f"attempt {operation}") == 1 else ok(service, operation)

    @contextmanager
    def call(service: str, operation: str) -> Iterator[None]:
        events.append(f"call {service}:{operation}")
        yield
        events.append("call ended")

    settings = AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", max_attempts=2, calls_per_second={})
    rds = RdsPasswords(AwsClients(settings, attempts=hooks.attempts, calls=hooks.calls))
    with hooks.added(attempt=attempt, call=call):  # joined after the clients were built
        rds.rotate_master_password("c1")
    assert events == ["call rds:ModifyDBCluster", "attempt ModifyDBCluster", "attempt ModifyDBCluster", "call ended"]
    assert hooks.attempts == []
    assert hooks.calls == []


class _Passes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, State | None]] = []

    def started(self, target: Target) -> None:
        self.seen.append(("started", f"{target.kind} {target.namespace}/{target.name}", None))

    def ended(self, target: Target, outcome: Outcome | None) -> None:
        self.seen.append(("ended", f"{target.kind} {target.namespace}/{target.name}", outcome and outcome.state))


def test_a_pass_observer_sees_each_reconcile_and_finalize_with_its_outcome() -> None:
    hooks, passes = Hooks(), _Passes()
    engine = Engine([FakeAdapter("first", observations=[SYNCED, SYNCED])], observers=hooks.passes)
    engine.reconcile(target())  # before the observer joined: not seen
    with hooks.added(passes=passes):
        engine.reconcile(target())
        engine.finalize(target(deletionPolicy="Retain"))
    engine.reconcile(target())  # after it left
    assert passes.seen == [
        ("started", "Fake ns/res", None),
        ("ended", "Fake ns/res", State.READY),
        ("started", "Fake ns/res", None),
        ("ended", "Fake ns/res", State.DELETED),
    ]
