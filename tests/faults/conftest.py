"""Fixtures of the fault and crash tests: shared emulators, the crash switch, and the session summary.

Crash points covered (:data:`faults.report.COVERED`) are printed at the end of the session, per
scenario and per step, with the fault run's report lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from upskill_operator.wiring.runtime import Hooks
from upskill_sandbox.crash import CrashSwitch

from e2e.conftest import emulators
from faults.crash_runner import REGION, CrashBed
from faults.report import COVERED, LINES


@pytest.fixture(scope="session")
def crash_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashBed]:
    workdir: Path = tmp_path_factory.mktemp("crash")
    hooks = Hooks()
    with emulators(REGION) as (aws, kube), CrashSwitch(kube).installed(hooks) as switch:
        yield CrashBed(aws, kube, switch, workdir, hooks)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COVERED:
        total = sum(sum(c.values()) for c in COVERED.values())
        distinct = {step for steps in COVERED.values() for step in steps}
        terminalreporter.section(f"crash points covered: {total} ({len(distinct)} distinct steps)")
        for kind, steps in COVERED.items():
            terminalreporter.write_line(f"{kind}: {sum(steps.values())}")
            for step, count in steps.items():
                terminalreporter.write_line(f"    {step}  x{count}")
    for line in LINES:
        terminalreporter.write_line(line)
