"""What every restore checks of its source, whatever the kind: whose data it is, and the reasons a refusal gives.

A restore reads data into this namespace, so its source (a snapshot, a cluster, a table, a backup's table)
must carry the owner tag of a resource of this namespace. An untagged source (made before the operator, or
by hand) may be restored only where an administrator granted its name (``UPSKILL_ADOPT_SCOPES``), as for
adoption: a user alone can never name another namespace's data, tagged or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from upskill_operator.errors import TerminalError
from upskill_operator.models.tags import OWNER_TAG
from upskill_operator.reconcile.protocol import Target

__all__ = ["INVALID", "NOT_FOUND", "refuse", "source_owner_problem"]

NOT_FOUND = "RestoreSourceNotFound"
"""The source named does not exist (retried on resync: it may be still to come)."""
INVALID = "RestoreSourceInvalid"
"""The source exists and cannot be restored here: another namespace's, or of the wrong shape."""


def source_owner_problem(field: str, what: str, name: str, tags: Mapping[str, str], target: Target) -> str | None:
    """Why ``target``'s namespace may not restore the ``what`` named ``name``, tagged ``tags`` (None: it may)."""
    owner = tags.get(OWNER_TAG)
    namespace = target.namespace
    if owner is None:
        if any(fnmatchcase(name, grant) for grant in target.adopt_grants):
            return None
        return (
            f"{field}: {what} {name!r} carries no upskill.io/owner tag, so it is not proven to belong to namespace "
            f"{namespace!r}; restoring it needs an administrator's grant (UPSKILL_ADOPT_SCOPES)"
        )
    other = owner.partition("/")[0]
    if other != namespace:
        return (
            f"{field}: {what} {name!r} is owned by {owner!r}, of namespace {other!r}, not {namespace!r}; "
            "refusing to restore another namespace's data"
        )
    return None


def refuse(problems: Iterable[str | None]) -> None:
    """Raise a Terminal error naming every problem found, if any."""
    found = [p for p in problems if p]
    if found:
        raise TerminalError("; ".join(found), reason=INVALID)
