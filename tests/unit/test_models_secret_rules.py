"""UpskillSecret rules added with the controller: generator policies and schedule expressions."""

from __future__ import annotations

import pytest

from unit.crd_support import assert_refused, example, mutated

KIND = "UpskillSecret"
GENERATED = example(KIND, "better-auth-secret")["spec"]


def test_a_policy_that_excludes_every_character_is_refused() -> None:
    nothing = {
        "source.generate.excludePunctuation": True,
        "source.generate.excludeNumbers": True,
        "source.generate.excludeUppercase": True,
        "source.generate.excludeLowercase": True,
    }
    assert_refused(
        KIND,
        mutated(GENERATED, nothing),
        ["spec.source.generate: excludes every kind of character: nothing is left to generate from"],
        "webhook",
    )
    assert_refused(KIND, mutated(GENERATED, {**nothing, "source.generate.includeSpace": True}), [], "webhook")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 4 L * ? *)", "'L': L, W and # are not supported; use lists, ranges and steps"),
        ("cron(0 4 1 * 2 *)", "cron(...): exactly one of day-of-month and day-of-week must be ?"),
        ("rate(3 weeks)", "must be rate(N minutes|hours|days) or cron(minutes hours day month weekday year)"),
    ],
)
def test_schedule_expressions_the_operator_cannot_evaluate_are_refused(expression: str, message: str) -> None:
    spec = mutated(GENERATED, {"rotation": {"scheduleExpression": expression}})
    assert_refused(KIND, spec, [f"spec.rotation.scheduleExpression: {message}"], "webhook")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(30 minutes)", "rate(...) takes hours or days in Secrets Manager (got minutes)"),
        ("rate(3 hours)", "must be at least 4 hours apart: Secrets Manager's shortest rotation (got 3 hours)"),
        ("rate(1000 days)", "must be at most 999 days apart: Secrets Manager's longest rotation (got 1000 days)"),
        ("rate(24000 hours)", "must be at most 999 days apart: Secrets Manager's longest rotation (got 24000 hours)"),
        (
            "cron(30 4 * * ? *)",
            "cron(...): the minutes field must be 0 (Secrets Manager rotation windows start on the hour)",
        ),
        (
            "cron(0 4 * * ? 2030)",
            "cron(...): the year field must be * (Secrets Manager schedules repeat within a year)",
        ),
        (
            "cron(0 0/2 * * ? *)",
            "cron(...) fires 2 hours apart (at 0:00 and 2:00); Secrets Manager rotates at most every 4 hours",
        ),
        (
            "cron(0 1,3,9 * * ? *)",
            "cron(...) fires 2 hours apart (at 1:00 and 3:00); Secrets Manager rotates at most every 4 hours",
        ),
    ],
)
def test_schedules_secrets_manager_refuses_are_refused(expression: str, message: str) -> None:
    spec = mutated(GENERATED, {"rotation": {"scheduleExpression": expression}})
    assert_refused(KIND, spec, [f"spec.rotation.scheduleExpression: {message}"], "webhook")


@pytest.mark.parametrize(
    "expression",
    [
        "rate(4 hours)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(999 days)",
        "cron(0 4 1 * ? *)",
        "cron(0 4/6 ? * MON-FRI *)",
    ],
)
def test_evaluable_schedules_are_accepted(expression: str) -> None:
    assert_refused(KIND, mutated(GENERATED, {"rotation": {"scheduleExpression": expression}}), [], "webhook")
