"""What the real API server does when a CustomResourceDefinition is deleted while objects of it exist.

kube-apiextensions-apiserver does not drop the objects with the CRD. Its DELETE handler sets the CRD's
``deletionTimestamp``, adds the finalizer ``customresourcecleanup.apiextensions.k8s.io`` and the
condition ``Terminating=True`` (``InstanceDeletionPending``). Its CRD finalizer controller then
deletes every object of the kind through the normal storage (``InstanceDeletionInProgress``): an
object with finalizers only gets its own ``deletionTimestamp``, so its controller sees a deletion
and runs its finalizer. Meanwhile the resource is still served (get, list, watch, patch, so
finalizers can be removed) but creates answer 405 ``create not allowed while custom resource
definition is terminating``. Once no object is left, the controller sets ``Terminating=False``
(``InstanceDeletionCompleted``), removes its finalizer, and the CRD (and the resource) go.

The emulator does the controller's work synchronously (:class:`~.kube_ops.Cluster` calls these
helpers), as it does for namespaces: the instances are deleted inside the CRD's DELETE, and the CRD
goes inside the request that removes the last instance's last finalizer.
"""

from __future__ import annotations

from typing import Any

from upskill_sandbox import kube_meta
from upskill_sandbox.kube_errors import ApiError

__all__ = ["CLEANUP_FINALIZER", "completed", "create_refused", "mark_terminating", "served_key", "terminating"]

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def served_key(crd: dict[str, Any]) -> tuple[str, str]:
    """The (group, plural) the CRD serves: where its objects are stored."""
    return str(crd["spec"]["group"]), str(crd["spec"]["names"]["plural"])


def terminating(crd: dict[str, Any] | None) -> bool:
    return bool(crd and crd["metadata"].get("deletionTimestamp"))


def _set_condition(crd: dict[str, Any], status: str, reason: str, message: str) -> None:
    block = crd.setdefault("status", {})
    conditions = [c for c in block.get("conditions") or [] if c.get("type") != "Terminating"]
    conditions.append(
        {
            "type": "Terminating",
            "status": status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": kube_meta.now(),
        }
    )
    block["conditions"] = conditions


def mark_terminating(crd: dict[str, Any]) -> None:
    """The DELETE handler's part, on a copy the caller stores: finalizer and Terminating condition."""
    finalizers = list(crd["metadata"].get("finalizers") or [])
    if CLEANUP_FINALIZER not in finalizers:
        crd["metadata"]["finalizers"] = [*finalizers, CLEANUP_FINALIZER]
    _set_condition(crd, "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress")


def completed(crd: dict[str, Any]) -> dict[str, Any]:
    """A copy with no instance left: condition completed, the cleanup finalizer removed."""
    done = kube_meta.deep(crd)
    done["metadata"]["finalizers"] = [f for f in done["metadata"].get("finalizers") or [] if f != CLEANUP_FINALIZER]
    if not done["metadata"]["finalizers"]:
        del done["metadata"]["finalizers"]
    _set_condition(done, "False", "InstanceDeletionCompleted", "removed all instances")
    return done


def create_refused(group: str, plural: str) -> ApiError:
    """HTTP 405, as the apiextensions server answers a create of a kind whose CRD is terminating."""
    return ApiError(
        405,
        "MethodNotAllowed",
        "create not allowed while custom resource definition is terminating",
        {"group": group, "kind": plural},
    )
