"""What the fault tests print at the end of the session (see ``conftest.pytest_terminal_summary``).

A plain module rather than the conftest: pytest imports conftest files under its own module
names, so state kept there would not be the state the tests import.
"""

from __future__ import annotations

from collections import Counter

from upskill_sandbox.crash import Step

__all__ = ["COVERED", "LINES"]

COVERED: dict[str, Counter[Step]] = {}
"""Scenario -> crash points covered (by step), filled by test_crash_points."""
LINES: list[str] = []
"""Report lines other fault tests print at the end of the session."""
