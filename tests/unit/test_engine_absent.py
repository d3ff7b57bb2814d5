"""An object the spec wants absent: reconcile creates nothing, finalize has nothing to wait for."""

from __future__ import annotations

from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Observation

from unit.fake_adapter import FakeAdapter
from unit.test_engine import OURS, SYNCED, target

NOT_WANTED = Observation(exists=False, up_to_date=True, outputs={"proxyArn": None})
RETIRING = Observation(exists=True, up_to_date=False, diff=("spec.proxy.enabled: false",), owner=OURS)


def test_absent_and_unwanted_is_in_sync() -> None:
    first, optional = FakeAdapter("first", observations=[SYNCED]), FakeAdapter("optional", observations=[NOT_WANTED])
    outcome = Engine([first, optional]).reconcile(target())
    assert outcome.state is State.READY
    assert optional.writes == []
    assert outcome.outputs["proxyArn"] is None


def test_an_object_no_longer_wanted_is_removed_through_update() -> None:
    optional = FakeAdapter("optional", observations=[RETIRING, NOT_WANTED])
    outcome = Engine([optional]).reconcile(target())
    assert outcome.state is State.READY
    assert optional.writes == ["update"]


def test_finalize_skips_what_was_never_created() -> None:
    optional = FakeAdapter("optional", observations=[NOT_WANTED])
    outcome = Engine([optional]).finalize(target())
    assert outcome.state is State.DELETED
    assert optional.writes == []
