"""The transitional states moto skips: a resource held in ``creating``/``modifying`` for a few describes.

AWS keeps a new cluster ``creating`` for minutes, a modified instance ``modifying``, a registered
proxy target ``REGISTERING``; moto shows everything ``available`` at once. A *hold* records
(kind, identifier) -> (state, describes left) on the moto backend of the account and region (so
``/moto-api/reset`` clears holds with everything else). Before a describe answers, the describes
it covers tick their holds: the model shows the held state while describes are left, then
``available`` again and the hold is dropped. Writes to a held resource are refused with AWS's
``Invalid...StateFault``, as AWS refuses them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

__all__ = ["LOCK", "Hold", "held_state", "hold", "release", "tick"]

LOCK = threading.RLock()
"""One lock for every extension read-modify-write: moto's werkzeug server is threaded."""

_ATTRIBUTE = "_upskill_holds"


@dataclass
class Hold:
    state: str
    remaining: int


def _holds(backend: Any) -> dict[tuple[str, str], Hold]:
    holds: dict[tuple[str, str], Hold] = backend.__dict__.setdefault(_ATTRIBUTE, {})
    return holds


def hold(backend: Any, kind: str, identifier: str, state: str, describes: int) -> None:
    """Show ``state`` for the next ``describes`` describes of the resource (nothing when 0)."""
    if describes > 0:
        _holds(backend)[(kind, identifier.lower())] = Hold(state, describes)


def release(backend: Any, kind: str, identifier: str) -> None:
    _holds(backend).pop((kind, identifier.lower()), None)


def held_state(backend: Any, kind: str, identifier: str) -> str | None:
    """The transitional state the resource is held in, or None when it is settled."""
    found = _holds(backend).get((kind, identifier.lower()))
    return found.state if found is not None and found.remaining > 0 else None


def tick(backend: Any, kind: str, identifiers: Collection[str] | None, show: Callable[[str, str | None], None]) -> None:
    """Count one describe of ``identifiers`` (all of ``kind`` when None).

    ``show(identifier, state)`` puts the state on the model; ``state`` None means settled again.
    """
    wanted = None if identifiers is None else {i.lower() for i in identifiers}
    holds = _holds(backend)
    for key, current in list(holds.items()):
        if key[0] != kind or (wanted is not None and key[1] not in wanted):
            continue
        if current.remaining > 0:
            show(key[1], current.state)
            current.remaining -= 1
        else:
            show(key[1], None)
            del holds[key]
