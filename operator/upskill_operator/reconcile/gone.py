"""Data-bearing objects that vanished: never re-created empty without an approval that cannot go stale.

An adapter reports the fact (:class:`~.protocol.Gone`: status records the object, AWS has none);
this decides. The first pass that finds it gone records ``status.dataObjectGone`` with the time
(``since``) and goes Terminal, naming what is left of the data. Re-creating it empty needs the
annotation ``upskill.io/recreate-empty: "<object>@<since>"``. The record is cleared once the
object exists again (re-created or restored), so a later loss gets a new ``since``: an annotation
left behind (or re-applied from Git) never approves the loss of a later object of the same name.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from upskill_operator.reconcile.protocol import RECREATE_ANNOTATION, Gone, Target

__all__ = ["STATUS_KEY", "Verdict", "recorded_for", "rfc3339_now", "verdict"]

log = logging.getLogger(__name__)

STATUS_KEY = "dataObjectGone"


def rfc3339_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Verdict:
    approved: bool
    record: dict[str, str]
    """What ``status.dataObjectGone`` holds while the object is gone."""
    message: str


def recorded_for(target: Target, step: str) -> bool:
    """True when status holds a loss record of this step (to clear once the object exists again)."""
    record = target.recorded.gone
    return record is not None and record.get("step") == step


def verdict(target: Target, step: str, gone: Gone, clock: Callable[[], str] = rfc3339_now) -> Verdict:
    """Whether the annotation approves re-creating this lost object empty, and what to record and say."""
    record = target.recorded.gone or {}
    same = record.get("step") == step and record.get("object") == gone.name
    since = str(record.get("since")) if same and record.get("since") else clock()
    approval = f"{gone.name}@{since}"
    kept = {"step": step, "object": gone.name, "since": since}
    if target.annotations.get(RECREATE_ANNOTATION) == approval:
        log.warning("%s %s is gone; re-creating it empty as %s approves", gone.what, gone.name, RECREATE_ANNOTATION)
        return Verdict(True, kept, "")
    message = (
        f"{gone.what} {gone.name} is gone from AWS, though status records that it existed; {gone.remains}. "
        f"Nothing was re-created. To re-create it empty instead, annotate "
        f'{RECREATE_ANNOTATION}: "{approval}"'
    )
    return Verdict(False, kept, message)
