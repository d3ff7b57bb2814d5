"""The whole example stack applied while 20 % of AWS attempts fail (throttling, 500, 503, resets, read timeouts).

The run (:mod:`upskill_sandbox.fault_run`) is the sandbox's: moto with RDS's
transitional states, the Kubernetes emulator, PostgreSQL behind the emulated clusters (migrations
and probes connect), the real operator. Faults are injected after botocore serialised each
request (:class:`~upskill_sandbox.faults.FaultInjector`); a
:class:`~upskill_sandbox.call_ledger.CallLedger` attributes every attempt to its resource
and its logical call. botocore makes ``max_attempts`` = 2 attempts per call, so a call fails
through to the operator with probability q = 0.2² = 4 %: the operator's own retries and
conditions are exercised, not only botocore's.

The bound on calls per resource, from the retry settings. Let C be the logical calls a resource
makes in a fault-free run of the same stack (measured first, in a namespace of its own) and L the
most calls one of its passes makes there. Under faults:

- botocore attempts each call at most A = ``max_attempts`` times;
- a pass ends Recoverable only when one of its calls failed all A attempts (or PostgreSQL, not AWS, was not
  reachable yet: :data:`DATA_PLANE_REASONS`), and its retry (after
  ``requeue_seconds * 2**streak`` of backoff) repeats at most one pass: at most L more calls;
- nothing else adds calls (observe before write: nothing is written twice; resyncs are off),
  except K = 1: the KMS alias lookup is cached per process, so whichever resource of a kind asks
  first pays it, in either run.

So with R Recoverable passes: calls <= C + R*L + K and attempts <= A * (C + R*L + K). A retry
storm (a pass repeated without a failed call, a write repeated, a retry without backoff) breaks
one of these, and each Recoverable pass must be explained by a call of that pass that failed all A attempts.
In expectation R is about q times the calls, so the bound stays close to C.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from upskill_operator.reconcile.outcome import State
from upskill_sandbox.call_ledger import OUTSIDE
from upskill_sandbox.fault_run import FaultRun, FaultRunOptions, fault_run

from faults.consistency import problems
from faults.inventory import Clients
from faults.report import LINES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

OPTIONS = FaultRunOptions(rate=0.2, seed=7, max_attempts=2, requeue_seconds=0.25, namespace="faults-20")
Baseline = dict[str, tuple[int, int, int, Counter[str]]]
SHARED_LOOKUPS = 1
"""K: the KMS alias resolution cached per process, paid by whichever resource of a kind asks first."""
DATA_PLANE_REASONS = frozenset({"DatabaseUnreachable", "RoleFailed", "GroupRoleMissing", "CredentialsPending"})
"""Recoverable reasons that are not AWS answers: PostgreSQL behind a just-created endpoint (the fronts learn of
it within a poll), or credentials the database's status does not carry yet. Load makes them more likely."""


def short(resource: str) -> str:
    """``UpskillDatabase faults-20/auth-db`` -> ``UpskillDatabase auth-db`` (the same in every namespace)."""
    kind, _, rest = resource.partition(" ")
    return f"{kind} {rest.rpartition('/')[2]}"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """(C, L, W) per resource: logical calls, the most in one pass, and the passes that ended still progressing
    (waiting on another resource or on AWS), of a fault-free run."""
    clean = FaultRunOptions(rate=0.0, max_attempts=2, requeue_seconds=0.25, namespace="faults-clean")
    with fault_run(clean) as run:
        assert not run.not_ready, run.not_ready
        return {
            short(name): (
                row.logical,
                max((p.calls for p in row.passes), default=0),
                _progressing(row),
                row.operations,
            )
            for name, row in run.ledger.resources.items()
            if name != OUTSIDE
        }


@pytest.fixture(scope="module")
def run(baseline: Baseline) -> Iterator[FaultRun]:
    with fault_run(OPTIONS) as faulty:
        LINES.append(f"\n== the example stack with {OPTIONS.rate:.0%} of AWS attempts failing ==")
        LINES.append(faulty.report())
        yield faulty


def test_everything_reaches_ready(run: FaultRun) -> None:
    assert not run.not_ready, run.not_ready


def test_conditions_showed_recoverable_meanwhile(run: FaultRun) -> None:
    assert sum(sum(seen.values()) for seen in run.recoverable.values()) > 0
    for name, row in run.ledger.resources.items():
        if row.recoverable:  # every Recoverable pass of a resource was written to its conditions
            assert run.recoverable.get(name), f"{name}: {row.recoverable} Recoverable passes, none in status"


def test_one_of_each_aws_object_consistent_with_status(run: FaultRun) -> None:
    namespace = OPTIONS.namespace or ""
    found = problems(Clients(run.aws), run.kube, namespace, run.docs, {"better-auth-secret": 1})
    assert not found, "\n".join(found)


def test_faults_of_every_kind_were_injected(run: FaultRun) -> None:
    assert set(run.ledger.injected()) == set(OPTIONS.kinds)
    assert run.ledger.totals().retries > 0


def _progressing(row: Any) -> int:
    return sum(1 for p in row.passes if p.state is State.PROGRESSING)


def test_calls_per_resource_stay_within_the_retry_bound(run: FaultRun, baseline: Baseline) -> None:
    """C + R·L + K, plus L for each pass more than the clean run's that ended still progressing: a resource
    waiting on another one (a secret on its database's migrations) waits longer when faults slow that one."""
    attempts = OPTIONS.max_attempts
    over = []
    for name, row in sorted(run.ledger.resources.items()):
        assert row.most_attempts <= attempts, f"{name}: a call made {row.most_attempts} attempts"
        if name == OUTSIDE:
            continue
        clean_calls, per_pass, clean_waits, clean_ops = baseline[short(name)]
        recoverable = row.recoverable
        waits = max(0, _progressing(row) - clean_waits)
        bound = clean_calls + (recoverable + waits) * per_pass + SHARED_LOOKUPS
        # each Recoverable pass: a call of its own failed every attempt, or its cause was not AWS
        over.extend(
            f"{name}: a Recoverable pass with no call that failed every attempt: {p.reason}: {p.message}"
            for p in row.passes
            if p.state is State.RECOVERABLE and not p.exhausted and p.reason not in DATA_PLANE_REASONS
        )
        if row.logical > bound or row.attempts > attempts * bound:
            over.append(
                f"{name}: {row.logical} calls / {row.attempts} attempts; bound {bound} / {attempts * bound} "
                f"(C={clean_calls}, L={per_pass}, R={recoverable}, W={waits}); calls beyond the clean run's: "
                f"{dict(row.operations - clean_ops)}, passes {[(p.state.value, p.reason, p.calls) for p in row.passes]}"
            )
    assert not over, "\n".join(over)


def test_recoverable_passes_back_off_exponentially(run: FaultRun) -> None:
    early = []
    for name, row in run.ledger.resources.items():
        streak = 0
        for done, following in zip(row.passes, row.passes[1:], strict=False):
            if done.state is not State.RECOVERABLE:
                streak = 0
                continue
            delay = min(OPTIONS.requeue_seconds * 2**streak, 300.0)
            streak += 1
            if following.started - done.ended < 0.9 * delay:
                early.append(f"{name}: next pass {following.started - done.ended:.2f} s after, backoff {delay} s")
    assert not early, "\n".join(early)
