"""Secrets Manager schedule expressions: ``rate(10 days)`` and ``cron(0 4 1 * ? *)``, parsed and evaluated.

The same expressions configure AWS rotation (with a Lambda) and the operator's own rotation
(without one), so one parser serves both: the model refuses what it cannot evaluate, and the
operator computes ``nextRotationTime`` from the time the current value was created.

Cron follows AWS's six fields (minutes, hours, day-of-month, month, day-of-week, year), in UTC,
with ``*``, ``?``, lists, ranges, ``/`` steps and names (JAN-DEC, SUN-SAT; SUN is 1). ``L``, ``W``
and ``#`` are refused with a clear message rather than approximated. Exactly one of day-of-month
and day-of-week is ``?``, as AWS requires.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass

__all__ = [
    "MAX_ROTATION_DAYS",
    "MIN_ROTATION_HOURS",
    "Cron",
    "Rate",
    "Schedule",
    "check_rotation",
    "every_days",
    "parse_schedule",
]

# Spaces only (not \s, which takes any Unicode space, tabs and newlines): what AWS accepts.
_RATE = re.compile(r"rate\( *([1-9][0-9]{0,5}) +(minutes?|hours?|days?) *\)")
_CRON = re.compile(r"cron\( *(.+?) *\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
_SEARCH_DAYS = 366 * 5
"""How far ahead a cron expression is searched before it is declared never to fire."""


@dataclass(frozen=True)
class Rate:
    """``rate(N unit)``: the next time is N units after the last one."""

    seconds: int

    def next_after(self, start: dt.datetime) -> dt.datetime | None:
        return start + dt.timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Cron:
    """An AWS cron expression as sets of allowed values per field (None: any)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    """1 = Sunday ... 7 = Saturday, as in AWS."""
    years: frozenset[int] | None

    def _day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        aws_weekday = day.isoweekday() % 7 + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        return self.days_of_week is None or aws_weekday in self.days_of_week

    def next_after(self, start: dt.datetime) -> dt.datetime | None:
        """The first firing strictly after ``start`` (UTC), or None when it never fires again."""
        start = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        at = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
                        if at > start:
                            return at
            day += dt.timedelta(days=1)
        return None


Schedule = Rate | Cron


def _value(token: str, low: int, high: int, names: dict[str, int]) -> int:
    # ASCII only: int() would read Arabic-Indic or full-width digits that AWS refuses.
    ascii_digits = token.isascii() and token.isdigit()
    number = names.get(token.upper()) if token.isalpha() else (int(token) if ascii_digits else None)
    if number is None or not low <= number <= high:
        raise ValueError(f"{token!r} is not a value between {low} and {high}")
    return number


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """One cron field; None stands for ``*`` or ``?``."""
    names = names or {}
    if text in ("*", "?"):
        return None
    for token in re.split(r"[,/-]", text.upper()):
        if "#" in token or (token not in names and token.rstrip("LW") != token):
            raise ValueError(f"{text!r}: L, W and # are not supported; use lists, ranges and steps")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _value(step_text, 1, high, {}) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            left, _, right = base.partition("-")
            first, last = _value(left, low, high, names), _value(right, low, high, names)
            if first > last:
                raise ValueError(f"{base!r}: a range must go upwards")
        else:
            first = _value(base, low, high, names)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _cron(body: str) -> Cron:
    fields = [part for part in body.split(" ") if part]
    if len(fields) != 6:
        raise ValueError("cron(...) needs 6 fields: minutes hours day-of-month month day-of-week year")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("cron(...): exactly one of day-of-month and day-of-week must be ?")
    for text in (minute, hour, month, year):
        if text == "?":
            raise ValueError("cron(...): ? is only allowed in day-of-month or day-of-week")
    parsed = Cron(
        minutes=_field(minute, 0, 59) or frozenset(range(60)),
        hours=_field(hour, 0, 23) or frozenset(range(24)),
        days_of_month=_field(dom, 1, 31),
        months=_field(month, 1, 12, _MONTHS) or frozenset(range(1, 13)),
        days_of_week=_field(dow, 1, 7, _DAYS),
        years=_field(year, 1970, 2199),
    )
    return parsed


def parse_schedule(expression: str) -> Schedule:
    """``rate(...)`` or ``cron(...)``; ValueError naming the problem (never the whole input) otherwise."""
    rate = _RATE.fullmatch(expression.strip(" "))
    if rate:
        unit = rate.group(2).rstrip("s")
        return Rate(int(rate.group(1)) * _UNIT_SECONDS[unit])
    cron = _CRON.fullmatch(expression.strip(" "))
    if not cron:
        raise ValueError("must be rate(N minutes|hours|days) or cron(minutes hours day month weekday year)")
    schedule = _cron(cron.group(1))
    if schedule.next_after(dt.datetime.now(dt.UTC)) is None:
        raise ValueError("cron(...) never fires again")
    return schedule


MIN_ROTATION_HOURS = 4
"""Secrets Manager rotates a secret at most every four hours."""
MAX_ROTATION_DAYS = 999
"""Secrets Manager's longest rotation period for a rate() schedule."""


def _rate_problem(expression: str) -> str | None:
    rate = _RATE.fullmatch(expression.strip(" "))
    if rate is None:
        return None
    count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
    if unit == "minute":
        return "rate(...) takes hours or days in Secrets Manager (got minutes)"
    seconds, got = count * _UNIT_SECONDS[unit], f"{count} {unit}{'' if count == 1 else 's'}"
    if seconds < MIN_ROTATION_HOURS * 3600:
        return f"must be at least {MIN_ROTATION_HOURS} hours apart: Secrets Manager's shortest rotation (got {got})"
    if seconds > MAX_ROTATION_DAYS * 86400:
        return f"must be at most {MAX_ROTATION_DAYS} days apart: Secrets Manager's longest rotation (got {got})"
    return None


def _cron_problem(expression: str, schedule: Cron) -> str | None:
    fields = [part for part in expression.strip(" ")[5:-1].split(" ") if part]
    if fields[0] != "0":
        return "cron(...): the minutes field must be 0 (Secrets Manager rotation windows start on the hour)"
    if fields[5] != "*":
        return "cron(...): the year field must be * (Secrets Manager schedules repeat within a year)"
    hours = sorted(schedule.hours)
    gaps = [(later - earlier, earlier, later) for earlier, later in itertools.pairwise(hours)]
    close = [gap for gap in gaps if gap[0] < MIN_ROTATION_HOURS]
    if close:
        gap, earlier, later = close[0]
        return (
            f"cron(...) fires {gap} hour{'' if gap == 1 else 's'} apart (at {earlier}:00 and {later}:00); "
            f"Secrets Manager rotates at most every {MIN_ROTATION_HOURS} hours"
        )
    return None


def check_rotation(expression: str) -> Schedule:
    """:func:`parse_schedule`, then Secrets Manager's own rules for rotation schedules (ValueError naming one)."""
    schedule = parse_schedule(expression)
    problem = _cron_problem(expression, schedule) if isinstance(schedule, Cron) else _rate_problem(expression)
    if problem is not None:
        raise ValueError(problem)
    return schedule


def every_days(days: int) -> Rate:
    """``rotation.everyDays`` as a schedule."""
    return Rate(days * 86400)
