"""Pydantic models of the three custom resources."""

from __future__ import annotations

from upskill_operator.models import database, secret, table
from upskill_operator.models.common import KindInfo

__all__ = ["KINDS", "kind_info"]

KINDS: tuple[KindInfo, ...] = (table.KIND, database.KIND, secret.KIND)


def kind_info(kind_name: str) -> KindInfo:
    """The kind called ``kind_name``: its kind (UpskillTable), plural, singular or short name."""
    wanted = kind_name.lower()
    for info in KINDS:
        if wanted in (info.kind.lower(), info.plural, info.singular, *info.short_names):
            return info
    known = ", ".join(info.kind for info in KINDS)
    raise KeyError(f"unknown kind {kind_name!r} (known: {known})")
