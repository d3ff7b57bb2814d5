"""Fixtures of the fault and crash tests: shared emulators, the crash switch, and the session summary.

Crash points covered (:data:`faults.report.COVERED`) are printed at the end of the session, per
scenario and per step, with the fault run's report lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from upskill_operator import crds
from upskill_operator.sandbox.aws import MotoServer, aws_env
from upskill_operator.sandbox.crash import CrashSwitch
from upskill_operator.sandbox.kube import KubeServer

from faults.crash_runner import REGION, CrashBed
from faults.report import COVERED, LINES


@pytest.fixture(scope="session")
def crash_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashBed]:
    workdir: Path = tmp_path_factory.mktemp("crash")
    with MotoServer() as aws, KubeServer() as kube, pytest.MonkeyPatch.context() as env:
        for key, value in aws_env(aws.url, REGION).items():
            env.setenv(key, value)
        aws.seed(REGION)
        for text in crds.render_all().values():
            kube.apply_manifest(yaml.safe_load(text))
        with CrashSwitch(kube).installed() as switch:
            yield CrashBed(aws, kube, switch, workdir)


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
