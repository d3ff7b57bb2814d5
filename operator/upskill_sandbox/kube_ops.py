"""The API server's write semantics over the store: create, update (PUT/PATCH), delete.

Rules kept from the real server, because operators depend on them:

* server-owned metadata (uid, creationTimestamp, resourceVersion, generation, deletionTimestamp)
  cannot be set by clients; a stale ``metadata.resourceVersion`` in a PUT or PATCH body gives 409;
* ``generation`` starts at 1 and grows only when something outside metadata (and outside status,
  for resources with a status subresource) changes; writes that change nothing are no-ops;
* with a status subresource, create drops ``status``, main-resource writes keep the stored status,
  and ``/status`` writes change nothing but status;
* DELETE of an object with finalizers only sets ``deletionTimestamp`` (and bumps generation); the
  object goes away when the last finalizer is removed; no finalizer may be added meanwhile;
* objects are created only in existing, non-terminating namespaces; deleting a namespace deletes
  its content, and the namespace goes once it is empty;
* owned objects (``ownerReferences``) are garbage-collected, synchronously here, when their last
  owner is deleted, unless ``propagationPolicy: Orphan``;
* a posted CRD registers its resource at once; a deleted CRD is Terminating while objects of it
  remain: they are deleted (finalizers honoured), creates of its kind answer 405, and the CRD and its
  resource go with the last object (:mod:`.kube_crd_cleanup`).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from upskill_sandbox import kube_crd_cleanup, kube_errors, kube_events, kube_meta
from upskill_sandbox.kube_errors import Cause
from upskill_sandbox.kube_patch import PatchError
from upskill_sandbox.kube_resources import BadCrdError, Registry, ResourceDef, resource_from_crd
from upskill_sandbox.kube_store import Store

__all__ = ["CRDS", "NAMESPACES", "Cluster", "WriteOptions", "WriteResult"]

NAMESPACES = ("", "namespaces")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
BOOT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")

Change = Callable[[dict[str, Any]], Any]


@attrs.frozen
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Warn"  # Strict | Warn | Ignore, as the ``fieldValidation`` query parameter


@attrs.frozen
class WriteResult:
    obj: dict[str, Any]
    warnings: tuple[str, ...] = ()


class Cluster:
    """All state of the emulated cluster and the rules for changing it."""

    def __init__(self, history_limit: int = 10_000) -> None:
        self.store = Store(history_limit)
        self.registry = Registry()
        self.registry_listeners: list[Callable[[ResourceDef, bool], None]] = []
        namespaces = self.registry.get(NAMESPACES)
        for name in BOOT_NAMESPACES:
            self.create(namespaces, "v1", None, {"metadata": {"name": name}}, WriteOptions())

    @staticmethod
    def present(obj: dict[str, Any], rdef: ResourceDef, version: str) -> dict[str, Any]:
        """The stored object as served in the requested version (only apiVersion differs)."""
        api_version = rdef.api_version(version)
        return obj if obj.get("apiVersion") == api_version else {**obj, "apiVersion": api_version}

    def create(
        self, rdef: ResourceDef, version: str, namespace: str | None, body: Any, opts: WriteOptions
    ) -> WriteResult:
        kube_meta.check_meta_types(body)
        obj = kube_meta.deep(body)
        meta = obj["metadata"]
        namespace = self._placement(rdef, namespace, meta)
        if rdef.crd_name is not None and kube_crd_cleanup.terminating(self.store.get(CRDS, None, rdef.crd_name)):
            raise kube_crd_cleanup.create_refused(rdef.group, rdef.plural)
        if meta.get("resourceVersion"):
            raise kube_errors.internal_error("resourceVersion should not be set on objects to be created")
        for field in kube_meta.SERVER_FIELDS:
            meta.pop(field, None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise kube_errors.invalid(
                    rdef.group,
                    rdef.kind,
                    "",
                    [Cause("metadata.name", "Required value: name or generateName is required", "FieldValueRequired")],
                )
            meta["name"] = self._unique_name(rdef, namespace, str(meta["generateName"]))
        if self.store.get(rdef.key, namespace, meta["name"]) is not None:
            raise kube_errors.already_exists(rdef.group, rdef.plural, meta["name"])
        obj = self._typed(rdef, version, obj)
        if rdef.status_subresource:
            obj.pop("status", None)
        warnings = self._admit(rdef, version, obj, None, opts)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=kube_meta.now())
        if rdef.has_generation:
            meta["generation"] = 1
        if opts.dry_run:
            return WriteResult(obj, warnings)
        meta["resourceVersion"] = self.store.next_version()
        stored = self.store.put(rdef.key, obj, None)
        self._after_store(rdef, stored)
        return WriteResult(stored, warnings)

    def update(
        self,
        rdef: ResourceDef,
        version: str,
        namespace: str | None,
        name: str,
        change: Change,
        opts: WriteOptions,
        *,
        subresource: str | None = None,
    ) -> WriteResult:
        """PUT or PATCH: ``change`` turns a copy of the stored object into the requested one."""
        current = self._existing(rdef, namespace, name)
        try:
            new = change(kube_meta.deep(current))
        except PatchError as exc:
            raise kube_errors.ApiError(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
                {"causes": [{"reason": "UnexpectedServerResponse", "message": str(exc)}]},
            ) from exc
        kube_meta.check_meta_types(new)
        sent = new["metadata"].get("resourceVersion")
        if sent and sent != current["metadata"]["resourceVersion"]:
            raise kube_errors.conflict(rdef.group, rdef.plural, name)
        new = self._separate_status(rdef, new, current, subresource)
        kube_meta.protect_server_fields(new, current)
        self._check_new_finalizers(rdef, new, current)
        new["apiVersion"], new["kind"] = current["apiVersion"], rdef.kind
        warnings = self._admit(rdef, version, new, current, opts)
        if rdef.has_generation and kube_meta.content_changed(current, new, ignore_status=rdef.status_subresource):
            new["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        if new == current or opts.dry_run:
            return WriteResult(new, warnings)
        new["metadata"]["resourceVersion"] = self.store.next_version()
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            self.store.remove(rdef.key, new, current)
            self._after_removal(rdef, new, "Background")
            return WriteResult(new, warnings)
        stored = self.store.put(rdef.key, new, current)
        self._after_store(rdef, stored)
        return WriteResult(stored, warnings)

    def delete(
        self, rdef: ResourceDef, namespace: str | None, name: str, options: dict[str, Any], opts: WriteOptions
    ) -> dict[str, Any]:
        current = self._existing(rdef, namespace, name)
        if rdef.key == NAMESPACES and name in PROTECTED_NAMESPACES:
            raise kube_errors.forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
        self._check_preconditions(rdef, current, options.get("preconditions") or {})
        orphan = options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True
        return self._delete_object(rdef, current, "Orphan" if orphan else "Background", dry_run=opts.dry_run)

    def _delete_object(
        self, rdef: ResourceDef, current: dict[str, Any], propagation: str, *, dry_run: bool
    ) -> dict[str, Any]:
        meta = current["metadata"]
        if meta.get("deletionTimestamp"):
            return current
        if meta.get("finalizers") or rdef.key in (NAMESPACES, CRDS):
            marked = kube_meta.deep(current)
            marked["metadata"].update(deletionTimestamp=kube_meta.now(), deletionGracePeriodSeconds=0)
            if marked["metadata"].get("generation"):
                marked["metadata"]["generation"] += 1
            if rdef.key == NAMESPACES:
                marked["status"] = {**(marked.get("status") or {}), "phase": "Terminating"}
            if rdef.key == CRDS:
                kube_crd_cleanup.mark_terminating(marked)
            if dry_run:
                return marked
            marked["metadata"]["resourceVersion"] = self.store.next_version()
            self.store.put(rdef.key, marked, current)
            if rdef.key == NAMESPACES:
                self._empty_namespace(meta["name"])
            if rdef.key == CRDS:
                self._empty_crd(marked)
            return self.store.get(rdef.key, meta.get("namespace"), meta["name"]) or marked
        if dry_run:
            return current
        last = kube_meta.deep(current)
        last["metadata"]["resourceVersion"] = self.store.next_version()
        self.store.remove(rdef.key, last, current)
        self._after_removal(rdef, last, propagation)
        return last

    def _existing(self, rdef: ResourceDef, namespace: str | None, name: str) -> dict[str, Any]:
        current = self.store.get(rdef.key, namespace if rdef.namespaced else None, name)
        if current is None:
            raise kube_errors.not_found(rdef.group, rdef.plural, name)
        return current

    def _placement(self, rdef: ResourceDef, namespace: str | None, meta: dict[str, Any]) -> str | None:
        """Where a new object goes; its namespace must exist and not be terminating."""
        if not rdef.namespaced:
            meta.pop("namespace", None)
            return None
        if namespace is None:
            raise kube_errors.method_not_allowed()
        if meta.get("namespace") not in (None, "", namespace):
            raise kube_errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace
        holder = self.store.get(NAMESPACES, None, namespace)
        if holder is None:
            raise kube_errors.not_found("", "namespaces", namespace)
        if holder["metadata"].get("deletionTimestamp"):
            raise kube_errors.forbidden(
                f"{rdef.plural} {json.dumps(meta.get('name', ''))} is forbidden: unable "
                f"to create new content in namespace {namespace} because it is being "
                "terminated"
            )
        return namespace

    def _unique_name(self, rdef: ResourceDef, namespace: str | None, prefix: str) -> str:
        for _ in range(16):
            name = kube_meta.generate_name(prefix)
            if self.store.get(rdef.key, namespace, name) is None:
                return name
        raise kube_errors.already_exists(rdef.group, rdef.plural, prefix)

    @staticmethod
    def _typed(rdef: ResourceDef, version: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The object with its served apiVersion and kind, ordered first as the real server writes them."""
        if obj.get("kind") not in (None, "", rdef.kind):
            raise kube_errors.bad_request(
                f"the kind in the data ({obj['kind']}) does not match the expected kind ({rdef.kind})"
            )
        rest = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
        return {"apiVersion": rdef.api_version(version), "kind": rdef.kind, "metadata": obj["metadata"], **rest}

    @staticmethod
    def _separate_status(
        rdef: ResourceDef, new: dict[str, Any], current: dict[str, Any], subresource: str | None
    ) -> dict[str, Any]:
        if subresource == "status":
            result = kube_meta.deep(current)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            return result
        if rdef.status_subresource:
            if "status" in current:
                new["status"] = kube_meta.deep(current["status"])
            else:
                new.pop("status", None)
        return new

    @staticmethod
    def _check_new_finalizers(rdef: ResourceDef, new: dict[str, Any], current: dict[str, Any]) -> None:
        if not current["metadata"].get("deletionTimestamp"):
            return
        old = set(current["metadata"].get("finalizers") or [])
        added = [name for name in new["metadata"].get("finalizers") or [] if name not in old]
        if added:
            listed = ", ".join(json.dumps(name) for name in added)
            raise kube_errors.invalid(
                rdef.group,
                rdef.kind,
                current["metadata"]["name"],
                [
                    Cause(
                        "metadata.finalizers",
                        "Forbidden: no new finalizers can be added if the object is being deleted, "
                        f"found new finalizers []string{{{listed}}}",
                        "FieldValueForbidden",
                    )
                ],
            )

    @staticmethod
    def _check_preconditions(rdef: ResourceDef, current: dict[str, Any], preconditions: dict[str, Any]) -> None:
        meta = current["metadata"]
        for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = preconditions.get(field)
            if wanted and wanted != meta.get(field):
                raise kube_errors.conflict(
                    rdef.group,
                    rdef.plural,
                    meta["name"],
                    f"Precondition failed: {label} in "
                    f"precondition: {wanted}, {label} in object meta: {meta.get(field)}",
                )

    def _admit(
        self, rdef: ResourceDef, version: str, obj: dict[str, Any], current: dict[str, Any] | None, opts: WriteOptions
    ) -> tuple[str, ...]:
        """Normalise, default, prune and validate; returns the warnings for unknown fields."""
        self._normalise(rdef, obj, current)
        causes = kube_meta.meta_causes(obj["metadata"], label_only_name=rdef.key == NAMESPACES)
        schema = rdef.schemas.get(version)
        pruned = schema.prepare(obj) if schema is not None else []
        if pruned and opts.field_validation == "Strict":
            raise kube_errors.bad_request("strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in pruned))
        if schema is not None and not causes:
            causes = schema.causes(obj, current)
        if rdef.key == kube_events.EVENTS:
            causes += kube_events.event_causes(obj)
        if causes:
            raise kube_errors.invalid(rdef.group, rdef.kind, obj["metadata"].get("name", ""), causes)
        return tuple(f'unknown field "{path}"' for path in pruned) if opts.field_validation == "Warn" else ()

    def _normalise(self, rdef: ResourceDef, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
        """Per-resource server behaviour: secrets' stringData, namespaces' phase, CRDs' status."""
        if rdef.key == ("", "secrets"):
            _normalise_secret(obj)
        elif rdef.key == NAMESPACES and current is None:
            obj["status"] = {"phase": "Active"}
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        elif rdef.key == CRDS:
            _default_crd(obj)
            try:
                resource_from_crd(obj)
            except BadCrdError as exc:
                raise kube_errors.invalid(rdef.group, rdef.kind, obj["metadata"].get("name", ""), exc.causes) from exc
            obj["status"] = _crd_status(obj, current)

    def _after_store(self, rdef: ResourceDef, stored: dict[str, Any]) -> None:
        if rdef.key == CRDS:
            served = resource_from_crd(stored)
            self.registry.add(served)
            for listener in list(self.registry_listeners):
                listener(served, True)

    def _after_removal(self, rdef: ResourceDef, last: dict[str, Any], propagation: str) -> None:
        if rdef.key == CRDS:
            self._unregister(last)
        if propagation != "Orphan":
            self._collect_dependents(last["metadata"]["uid"])
        self._reap_namespaces()
        self._reap_crds()

    def _unregister(self, crd: dict[str, Any]) -> None:
        key = (crd["spec"]["group"], crd["spec"]["names"]["plural"])
        served = self.registry.remove(key)
        for obj in self.store.items(key):
            last = kube_meta.deep(obj)
            last["metadata"]["resourceVersion"] = self.store.next_version()
            self.store.remove(key, last, obj)
        if served is not None:
            for listener in list(self.registry_listeners):
                listener(served, False)

    def _collect_dependents(self, owner_uid: str) -> None:
        for key, obj in self.store.all_objects():
            refs = obj["metadata"].get("ownerReferences") or []
            if not any(ref.get("uid") == owner_uid for ref in refs):
                continue
            if any(self.store.exists_uid(ref.get("uid", "")) for ref in refs if ref.get("uid") != owner_uid):
                continue
            rdef = self.registry.find(key)
            fresh = self.store.get(key, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            if rdef is not None and fresh is not None:
                self._delete_object(rdef, fresh, "Background", dry_run=False)

    def _empty_namespace(self, namespace: str) -> None:
        for rdef in self.registry:
            if rdef.namespaced:
                for obj in self.store.items(rdef.key, namespace):
                    self._delete_object(rdef, obj, "Background", dry_run=False)
        self._reap_namespaces()

    def _empty_crd(self, crd: dict[str, Any]) -> None:
        """The CRD finalizer controller: delete every object of the kind, each through its own finalizers."""
        key = kube_crd_cleanup.served_key(crd)
        rdef = self.registry.find(key)
        for obj in self.store.items(key):
            fresh = self.store.get(key, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            if rdef is not None and fresh is not None:  # deleting one may have collected another
                self._delete_object(rdef, fresh, "Background", dry_run=False)
        self._reap_crds()

    def _reap_crds(self) -> None:
        """The controller's last step: a terminating CRD with no object left loses its cleanup finalizer."""
        for listed in self.store.items(CRDS):
            crd = self.store.get(CRDS, None, listed["metadata"]["name"])  # an earlier turn may have removed it
            finalizers = (crd or {}).get("metadata", {}).get("finalizers") or []
            if (
                crd is None
                or not kube_crd_cleanup.terminating(crd)
                or kube_crd_cleanup.CLEANUP_FINALIZER not in finalizers
            ):
                continue
            if self.store.items(kube_crd_cleanup.served_key(crd)):
                continue
            done = kube_crd_cleanup.completed(crd)
            done["metadata"]["resourceVersion"] = self.store.next_version()
            if done["metadata"].get("finalizers"):
                self.store.put(CRDS, done, crd)
            else:
                self.store.remove(CRDS, done, crd)
                self._after_removal(self.registry.get(CRDS), done, "Background")

    def _reap_namespaces(self) -> None:
        """The namespace controller's last step: a terminating, empty namespace goes away."""
        for holder in self.store.items(NAMESPACES):
            meta = holder["metadata"]
            if not meta.get("deletionTimestamp") or meta.get("finalizers"):
                continue
            if any(self.store.items(rdef.key, meta["name"]) for rdef in self.registry if rdef.namespaced):
                continue
            last = kube_meta.deep(holder)
            last["metadata"]["resourceVersion"] = self.store.next_version()
            self.store.remove(NAMESPACES, last, holder)


def _normalise_secret(obj: dict[str, Any]) -> None:
    """``stringData`` is write-only: the server folds it into base64 ``data``."""
    string_data = obj.pop("stringData", None) or {}
    data = obj.get("data") or {}
    if not isinstance(string_data, dict) or not isinstance(data, dict):
        raise kube_errors.bad_request("json: cannot unmarshal into Go struct field Secret.data of type map")
    for key, value in data.items():
        try:
            base64.b64decode(str(value), validate=True)
        except binascii.Error as exc:
            raise kube_errors.bad_request(f"illegal base64 data in Secret.data[{key}]") from exc
    data = {**data, **{key: base64.b64encode(str(value).encode()).decode() for key, value in string_data.items()}}
    if data:
        obj["data"] = data
    obj.setdefault("type", "Opaque")


def _default_crd(crd: dict[str, Any]) -> None:
    names = (crd.get("spec") or {}).get("names")
    if isinstance(names, dict) and names.get("kind"):
        names.setdefault("singular", str(names["kind"]).lower())
        names.setdefault("listKind", f"{names['kind']}List")
    if isinstance(crd.get("spec"), dict):
        crd["spec"].setdefault("conversion", {"strategy": "None"})


def _crd_status(crd: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """What the CRD controllers would report: names accepted, established, stored versions."""
    old_status = (current or {}).get("status") or {}
    since = {c.get("type"): c.get("lastTransitionTime") for c in old_status.get("conditions") or []}
    conditions = [
        {
            "type": kind,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastTransitionTime": since.get(kind) or kube_meta.now(),
        }
        for kind, reason, message in (
            ("NamesAccepted", "NoConflicts", "no conflicts found"),
            ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        )
    ]
    conditions += [c for c in old_status.get("conditions") or [] if c.get("type") == "Terminating"]
    storage = [v["name"] for v in crd["spec"]["versions"] if v.get("storage")]
    stored = list(dict.fromkeys([*(old_status.get("storedVersions") or []), *storage]))
    return {"acceptedNames": crd["spec"]["names"], "conditions": conditions, "storedVersions": stored}
