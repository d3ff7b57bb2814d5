"""Schedule expressions: rate(...) and AWS cron(...), parsed and evaluated in UTC."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from upskill_operator.models.schedule import Cron, Rate, every_days, parse_schedule

T0 = dt.datetime(2025, 3, 5, 10, 30, tzinfo=dt.UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(12 hours)", 43200), ("rate(10 days)", 864000), ("rate( 2 days )", 172800)],
)
def test_rates(expression: str, seconds: int) -> None:
    schedule = parse_schedule(expression)
    assert schedule == Rate(seconds)
    assert schedule.next_after(T0) == T0 + dt.timedelta(seconds=seconds)


def test_every_days_is_a_rate() -> None:
    assert every_days(30).next_after(T0) == T0 + dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 4 1 * ? *)", dt.datetime(2025, 4, 1, 4, 0, tzinfo=dt.UTC)),  # first of the month
        ("cron(30 2 ? * MON-FRI *)", dt.datetime(2025, 3, 6, 2, 30, tzinfo=dt.UTC)),  # next weekday
        ("cron(0 0 ? * 1 *)", dt.datetime(2025, 3, 9, 0, 0, tzinfo=dt.UTC)),  # 1 = Sunday, as in AWS
        ("cron(0/15 * * * ? *)", dt.datetime(2025, 3, 5, 10, 45, tzinfo=dt.UTC)),  # steps
        ("cron(0 12 1,15 JAN,MAR ? *)", dt.datetime(2025, 3, 15, 12, 0, tzinfo=dt.UTC)),  # lists and names
        ("cron(0 10 5 3 ? 2029-2199)", dt.datetime(2029, 3, 5, 10, 0, tzinfo=dt.UTC)),  # years
        ("cron(30 10 5 3 ? *)", dt.datetime(2026, 3, 5, 10, 30, tzinfo=dt.UTC)),  # strictly after the start
    ],
)
def test_cron_next_firing(expression: str, expected: dt.datetime) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, Cron)
    assert schedule.next_after(T0) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("daily", "must be rate(N minutes|hours|days) or cron"),
        ("rate(0 days)", "must be rate(N minutes|hours|days) or cron"),
        ("rate(5 weeks)", "must be rate(N minutes|hours|days) or cron"),
        ("cron(0 4 * *)", "needs 6 fields"),
        ("cron(0 4 1 * 2 *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 4 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(? 4 1 * ? *)", "? is only allowed in day-of-month or day-of-week"),
        ("cron(0 4 L * ? *)", "L, W and # are not supported"),
        ("cron(0 4 ? * 2#1 *)", "L, W and # are not supported"),
        ("cron(0 4 15W * ? *)", "L, W and # are not supported"),
        ("cron(61 4 1 * ? *)", "'61' is not a value between 0 and 59"),
        ("cron(0 4 9-2 * ? *)", "a range must go upwards"),
        ("cron(0 4 1 * ? 2001)", "never fires again"),
    ],
)
def test_refusals_name_the_problem(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_schedule(expression)


def test_names_containing_l_or_w_are_names_not_modifiers() -> None:
    schedule = parse_schedule("cron(0 0 ? JUL WED *)")
    assert isinstance(schedule, Cron)
    assert schedule.next_after(T0) == dt.datetime(2025, 7, 2, 0, 0, tzinfo=dt.UTC)
