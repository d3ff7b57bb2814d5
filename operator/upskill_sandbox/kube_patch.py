"""PATCH bodies: JSON merge patch, strategic merge patch (as merge patch) and JSON patch.

Strategic merge patch is treated as a merge patch after its ``$``-directives are interpreted in the
simple forms kubectl sends (``$patch: replace|delete`` and ``$setElementOrder``/``$retainKeys``,
which are dropped): lists are therefore replaced wholesale rather than merged by key. This is good
enough for ``kubectl apply`` of our manifests but is not the real list-merge algorithm.
"""

from __future__ import annotations

import copy
from typing import Any

from upskill_sandbox import kube_errors

__all__ = ["PatchError", "apply_json_patch", "apply_merge_patch", "apply_strategic_merge_patch"]


class PatchError(Exception):
    """A JSON patch operation could not be applied (the server answers 422)."""


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def apply_strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A merge patch that honours ``$patch: replace|delete`` and ignores other ``$`` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    clean = {key: value for key, value in patch.items() if not key.startswith("$")}
    if directive == "delete":
        return None
    if directive == "replace":
        return _strip_directives(clean)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in clean.items():
        if value is None:
            result.pop(key, None)
            continue
        merged = apply_strategic_merge_patch(result.get(key), value)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(item) for item in value]
    return value


def _parse_pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _container(doc: Any, parts: list[str], path: str) -> Any:
    """Walk to the parent of the last pointer token; missing parents fail as on the real server."""
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"doc is missing path: {path!r}")
    return node


def _get(doc: Any, path: str) -> Any:
    parts = _parse_pointer(path)
    if not parts:
        return doc
    node = _container(doc, parts, path)
    last = parts[-1]
    if isinstance(node, dict) and last in node:
        return node[last]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node[int(last)]
    raise PatchError(f"doc is missing path: {path!r}")


def _index(node: list[Any], token: str, path: str, *, inserting: bool) -> int:
    if token == "-" and inserting:
        return len(node)
    if not token.isdigit():
        raise PatchError(f"invalid array index {token!r} in {path!r}")
    index = int(token)
    if index > len(node) or (index == len(node) and not inserting):
        raise PatchError(f"array index out of bounds in {path!r}")
    return index


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _parse_pointer(path)
    if not parts:
        return value
    node = _container(doc, parts, path)
    if isinstance(node, dict):
        node[parts[-1]] = value
    elif isinstance(node, list):
        node.insert(_index(node, parts[-1], path, inserting=True), value)
    else:
        raise PatchError(f"doc is missing path: {path!r}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _parse_pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    node = _container(doc, parts, path)
    if isinstance(node, dict) and parts[-1] in node:
        del node[parts[-1]]
    elif isinstance(node, list):
        del node[_index(node, parts[-1], path, inserting=False)]
    else:
        raise PatchError(f"unable to remove nonexistent key: {parts[-1]}: missing value")
    return doc


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    kind, path = op.get("op"), op.get("path")
    if not isinstance(path, str):
        raise PatchError(f"operation {kind!r} has no 'path'")
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise PatchError(f"testing value {path} failed: test failed")
        return doc
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op.get("value")))
    if kind == "remove":
        return _remove(doc, path)
    if kind == "replace":
        _get(doc, path)  # must exist
        return _add(_remove(doc, path), path, copy.deepcopy(op.get("value"))) if path else op.get("value")
    if kind in ("move", "copy"):
        source = op.get("from")
        if not isinstance(source, str):
            raise PatchError(f"operation {kind!r} has no 'from'")
        value = copy.deepcopy(_get(doc, source))
        if kind == "move":
            doc = _remove(doc, source)
        return _add(doc, path, value)
    raise PatchError(f"unexpected kind of operation: {kind!r}")


def apply_json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 on a deep copy; a failed ``test`` or a missing path raises :class:`PatchError`."""
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise kube_errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    for op in operations:
        doc = _apply_op(doc, op)
    return doc
