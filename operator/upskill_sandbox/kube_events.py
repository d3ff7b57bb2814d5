"""core/v1 Event checks, as the real API server makes them on create and update.

After Kubernetes' ``legacyValidateEvent`` (pkg/apis/core/validation/events.go), which every
core/v1 write of an Event passes:

* without ``eventTime`` (old-style events), ``involvedObject.namespace`` must be the event's own
  namespace, or empty for an event in ``default`` about a cluster-scoped object;
* with ``eventTime`` (what kopf and client-go's events API send), an empty
  ``involvedObject.namespace`` is allowed only in ``default`` and ``kube-system``, and the event
  must carry ``reportingComponent`` (a qualified name), ``reportingInstance`` and ``action`` (each
  at most 128 characters), a ``reason`` (at most 128) and a ``message`` of at most 1024 characters;
  the server counts bytes of UTF-8 (Go's ``len``), not characters.

The stricter events.k8s.io/v1 checks are not served: nothing here posts through that API.
"""

from __future__ import annotations

import json
from typing import Any

from upskill_sandbox.kube_errors import Cause
from upskill_sandbox.kube_meta import qualified_name_causes

__all__ = ["EVENTS", "event_causes"]

EVENTS = ("", "events")
_LIMITS = {"reportingInstance": 128, "action": 128, "reason": 128, "message": 1024}


def _mismatch(involved: str) -> Cause:
    return Cause("involvedObject.namespace", f"Invalid value: {json.dumps(involved)}: does not match event.namespace")


def event_causes(event: dict[str, Any]) -> list[Cause]:
    """The validation failures of one Event (as stored: ``metadata.namespace`` is set)."""
    namespace = str(event["metadata"].get("namespace") or "")
    involved = str((event.get("involvedObject") or {}).get("namespace") or "")
    if not event.get("eventTime"):
        if (involved or namespace not in ("", "default")) and involved != namespace:
            return [_mismatch(involved)]
        return []
    causes = [] if involved or namespace in ("default", "kube-system") else [_mismatch(involved)]
    component = str(event.get("reportingComponent") or "")
    if not component:
        causes.append(Cause("reportingComponent", "Required value", "FieldValueRequired"))
    else:
        causes += qualified_name_causes("reportingComponent", component)
    for field, limit in _LIMITS.items():
        value = str(event.get(field) or "")
        if not value and field != "message":
            causes.append(Cause(field, "Required value", "FieldValueRequired"))
        elif len(value.encode()) > limit:  # Go's len(): bytes of UTF-8, not characters
            causes.append(Cause(field, f'Invalid value: "": can have at most {limit} characters'))
    return causes
