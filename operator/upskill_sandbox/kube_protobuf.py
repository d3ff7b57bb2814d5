"""Decoding of the few protobuf bodies kubectl sends, so that ``kubectl create namespace|configmap|secret``
works against the emulator.

kubectl's typed clients encode built-in objects as ``application/vnd.kubernetes.protobuf`` and do not
fall back to JSON on 415. Only the types those generators create are decoded here (Namespace,
ConfigMap, Secret, ServiceAccount) with the object-metadata fields a client may set; anything else
is refused with 415. The field numbers are those of the Kubernetes API's ``generated.proto``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["PROTOBUF", "decode"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

Fields = list[tuple[int, int | bytes]]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Wire-level fields: varints as ints, length-delimited as bytes; fixed widths skipped."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            size, pos = _varint(data, pos)
            yield number, data[pos : pos + size]
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _text(value: int | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(value: int | bytes) -> tuple[str, bytes]:
    parts = dict(_fields(value if isinstance(value, bytes) else b""))
    key, item = parts.get(1, b""), parts.get(2, b"")
    return _text(key), item if isinstance(item, bytes) else b""


def _meta(data: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for number, value in _fields(data):
        if number in (1, 2, 3) and value:
            meta[("name", "generateName", "namespace")[number - 1]] = _text(value)
        elif number in (11, 12):
            key, item = _entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = item.decode()
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(value))
    return meta


def _configmap(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, value in _fields(data):
        if number == 2:
            key, item = _entry(value)
            obj.setdefault("data", {})[key] = item.decode()
        elif number == 3:
            key, item = _entry(value)
            obj.setdefault("binaryData", {})[key] = base64.b64encode(item).decode()
        elif number == 4:
            obj["immutable"] = bool(value)
    return obj


def _secret(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, value in _fields(data):
        if number in (2, 4):
            key, item = _entry(value)
            if number == 2:
                obj.setdefault("data", {})[key] = base64.b64encode(item).decode()
            else:
                obj.setdefault("stringData", {})[key] = item.decode()
        elif number == 3:
            obj["type"] = _text(value)
        elif number == 5:
            obj["immutable"] = bool(value)
    return obj


def _plain(data: bytes) -> dict[str, Any]:
    return {}


_KINDS: dict[str, Callable[[bytes], dict[str, Any]]] = {
    "Namespace": _plain,
    "ServiceAccount": _plain,
    "ConfigMap": _configmap,
    "Secret": _secret,
}


def decode(body: bytes) -> dict[str, Any] | None:
    """The JSON-equivalent object of a protobuf body, or None if its kind is not supported."""
    if not body.startswith(_MAGIC):
        return None
    envelope = dict(_fields(body[len(_MAGIC) :]))
    type_bytes = envelope.get(1, b"")
    type_meta = dict(_fields(type_bytes if isinstance(type_bytes, bytes) else b""))
    api_version, kind = _text(type_meta.get(1, b"")), _text(type_meta.get(2, b""))
    raw = envelope.get(2, b"")
    if kind not in _KINDS or not isinstance(raw, bytes):
        return None
    message = raw
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {}}
    for number, value in _fields(message):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _meta(value)
    obj.update(_KINDS[kind](message))
    return obj
