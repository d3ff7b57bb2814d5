"""The MigrationsApplied condition a run gives: a re-check that applied nothing rewrites nothing."""

from __future__ import annotations

from upskill_operator.background.migrator import _verdict
from upskill_operator.db.migrations import AppliedMigration, MigrationReport


def _applied(name: str) -> AppliedMigration:
    return AppliedMigration(version=name.split("_")[0], name=name, checksum="0" * 64, duration_seconds=0.01)


def test_a_run_that_applies_names_what_it_applied() -> None:
    verdict = _verdict(MigrationReport("course", 1, (_applied("0002_b"), _applied("0003_c")), "0003_c"))
    assert (verdict.status, verdict.reason) == ("True", "Applied")
    assert verdict.message == "3 of set course applied, latest 0003_c (just applied: 0002_b, 0003_c)"


def test_a_recheck_that_applies_nothing_keeps_the_message_status_shows() -> None:
    shown = {
        "type": "MigrationsApplied",
        "status": "True",
        "reason": "Applied",
        "message": "3 of set course applied, latest 0003_c (just applied: 0002_b, 0003_c)",
    }
    assert _verdict(MigrationReport("course", 3, (), "0003_c"), shown).message == shown["message"]


def test_a_recheck_with_other_counts_or_a_failed_condition_says_the_new_counts() -> None:
    report = MigrationReport("course", 4, (), "0004_d")
    stale = {
        "status": "True",
        "reason": "Applied",
        "message": "3 of set course applied, latest 0003_c (just applied: 0003_c)",
    }
    failed = {"status": "False", "reason": "DatabaseUnavailable", "message": "cannot connect"}
    expected = "4 of set course applied, latest 0004_d"
    assert _verdict(report, stale).message == expected
    assert _verdict(report, failed).message == expected
    assert _verdict(report).message == expected
