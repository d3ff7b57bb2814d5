"""YAML as ``kubectl apply -f`` reads it (YAML 1.1), as YAML 1.2 reads it, and a dumper safe for both.

kubectl decodes manifests with sigs.k8s.io/yaml, which resolves plain scalars as go-yaml v2 does
(YAML 1.1): ``y``, ``Y``, ``yes``, ``on`` are ``true``; ``n``, ``N``, ``no``, ``off`` are ``false``;
``012`` is octal, ``0x1F`` and ``0b101`` are integers, ``1_000`` is 1000, ``1e3`` a float; ``12:30`` and
dates stay strings. It then turns the document into JSON: map keys become strings (``N: x`` is the key
``"false"``; a float key is printed at float32 precision), a whole float below 1e21 is sent as an
integer (``4.0`` reaches the API server as ``4``), and NaN or infinity is an error. PyYAML's own
resolver is not that YAML 1.1: it keeps ``y``/``n`` as strings and reads ``1e3`` as a string.

* :func:`load_all` / :func:`load`: the objects kubectl sends, for the sandbox and the tests that apply
  manifests the way kubectl does.
* :func:`intended_all`: the YAML 1.2 core-schema reading, the one a reader means when writing the file.
* :class:`Dumper`: quotes every string that any of go-yaml v2, YAML 1.2 core or PyYAML would read as
  something else, so generated files read the same everywhere.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from typing import Any

import yaml

__all__ = ["Dumper", "intended_all", "load", "load_all", "to_wire"]

STR, BOOL, INT, FLOAT, NULL, MERGE = (
    f"tag:yaml.org,2002:{name}" for name in ("str", "bool", "int", "float", "null", "merge")
)
_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_GO_WORDS: dict[str, tuple[str, Any]] = {
    **{word: (BOOL, True) for word in _TRUE},
    **{word: (BOOL, False) for word in _FALSE},
    **{word: (NULL, None) for word in ("", "~", "null", "Null", "NULL")},
    **{word: (FLOAT, math.nan) for word in (".nan", ".NaN", ".NAN")},
    **{f"{sign}{word}": (FLOAT, math.inf) for sign in ("", "+") for word in (".inf", ".Inf", ".INF")},
    **{f"-{word}": (FLOAT, -math.inf) for word in (".inf", ".Inf", ".INF")},
    "<<": (MERGE, "<<"),
}
_GO_HINTS = frozenset("+-0123456789yYnNtTfFoO~.<")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INT64 = range(-(2**63), 2**63)


def _go_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)``, then ``ParseUint``: base prefixes, a leading 0 is octal."""
    sign, body = (-1 if text[:1] == "-" else 1), text[1:] if text[:1] in "+-" else text
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[prefix], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    if not digits or any(char not in "0123456789abcdef"[:base] for char in digits.lower()):
        return None
    value = sign * int(digits, base)
    if value in _INT64 or (text[:1] not in "+-" and value < 2**64):
        return value
    return None


def _go_resolve(text: str) -> tuple[str, Any]:
    """go-yaml v2's resolution of a plain scalar into interface{} (timestamps stay strings)."""
    if text in _GO_WORDS:
        return _GO_WORDS[text]
    if not text or text[0] not in _GO_HINTS:
        return STR, text
    if text[0] == ".":
        try:
            return FLOAT, float(text)
        except ValueError:
            return STR, text
    if text[0] in "+-0123456789":
        plain = text.replace("_", "")
        whole = _go_int(plain)
        if whole is not None:
            return INT, whole
        if _GO_FLOAT.fullmatch(plain) and math.isfinite(number := float(plain)):
            return FLOAT, number
    return STR, text


_CORE = (
    (NULL, re.compile(r"~|null|Null|NULL|")),
    (BOOL, re.compile(r"true|True|TRUE|false|False|FALSE")),
    (INT, re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (FLOAT, re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")),
)


def _core_tag(text: str) -> str:
    """The YAML 1.2 core schema's tag for a plain scalar."""
    if text == "<<":
        return MERGE
    return next((tag for tag, pattern in _CORE if pattern.fullmatch(text)), STR)


def _core_value(tag: str, text: str) -> Any:
    if tag == NULL:
        return None
    if tag == BOOL:
        return text.lower() == "true"
    if tag == INT:
        return int(text[2:], 8 if text[1] == "o" else 16) if text[:2] in ("0o", "0x") else int(text)
    lowered = text.lower()
    if lowered.endswith((".inf", ".nan")):
        return -math.inf if lowered.startswith("-") else math.nan if "nan" in lowered else math.inf
    return float(text)


class _KubectlLoader(yaml.SafeLoader):
    """Plain scalars resolved as go-yaml v2 resolves them; map keys turned into strings at once."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return _go_resolve(value)[0]
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # at once: in Python the keys True and 1 are one key, for kubectl "true" and "1" are two
        self.flatten_mapping(node)
        return {_key(self.construct_object(key, deep=deep)): self.construct_object(value, deep=deep)
                for key, value in node.value}  # fmt: skip


class _CoreLoader(yaml.SafeLoader):
    """Plain scalars resolved by the YAML 1.2 core schema."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return _core_tag(value)
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _construct(resolver: Any) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        return resolver(node.tag, loader.construct_scalar(node))

    return construct


for _tag in (BOOL, INT, FLOAT, NULL):
    _KubectlLoader.add_constructor(_tag, _construct(lambda tag, text: _go_resolve(text)[1]))
    _CoreLoader.add_constructor(_tag, _construct(_core_value))
for _loader in (_KubectlLoader, _CoreLoader):  # ``<<`` outside a key is the string "<<"
    _loader.add_constructor(MERGE, _construct(lambda tag, text: text))


def _go_float32_key(number: float) -> str:
    """``strconv.FormatFloat(number, 'g', -1, 32)``, as sigs.k8s.io/yaml prints a float map key."""
    if not math.isfinite(number):
        return ".nan" if math.isnan(number) else ".inf" if number > 0 else "-.inf"
    single = _float32(abs(number))
    text = next(t for t in (f"{single:.{p}e}" for p in range(9)) if _float32(float(t)) == single)
    shortest = Decimal(text).normalize()
    digits = "".join(map(str, shortest.as_tuple().digits))
    point = shortest.adjusted()
    sign = "-" if number < 0 else ""
    if point < -4 or point >= 6:
        mantissa = f"{digits[0]}.{digits[1:]}" if len(digits) > 1 else digits
        return f"{sign}{mantissa}e{'-' if point < 0 else '+'}{abs(point):02d}"
    return f"{sign}{shortest:f}"


def _float32(number: float) -> float:
    single: float = struct.unpack("f", struct.pack("f", number))[0]
    return single


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, str):
        return key
    if isinstance(key, int) and key in _INT64:
        return str(key)
    if isinstance(key, float):
        return _go_float32_key(key)
    raise ValueError(f"unsupported map key of type {type(key).__name__}: {key!r}")


def to_wire(value: Any) -> Any:
    """A decoded document as kubectl sends it: string keys, whole floats as integers, no NaN or infinity."""
    if isinstance(value, dict):
        return {_key(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"json: unsupported value: {value}")
        if value.is_integer() and abs(value) < 1e21:  # Go writes it as digits, which decode as an integer
            whole = int(Decimal(repr(value)))  # the shortest digits, then zeros: 9.223372036854776e18 too
            return whole if whole in _INT64 else value
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return float(value)  # the API server decodes a number beyond int64 as float64
    return value


def load_all(text: str) -> list[Any]:
    """Every non-empty document of ``text`` as ``kubectl apply -f`` sends it."""
    return [to_wire(doc) for doc in yaml.load_all(text, Loader=_KubectlLoader) if doc is not None]


def load(text: str) -> Any:
    """The single document of ``text`` as ``kubectl apply -f`` sends it."""
    docs = load_all(text)
    if len(docs) != 1:
        raise ValueError(f"expected one YAML document, found {len(docs)}")
    return docs[0]


def intended_all(text: str) -> list[Any]:
    """Every non-empty document of ``text`` read with the YAML 1.2 core schema (what the author means)."""
    return [doc for doc in yaml.load_all(text, Loader=_CoreLoader) if doc is not None]


class Dumper(yaml.SafeDumper):
    """A SafeDumper that quotes a string whenever go-yaml v2, YAML 1.2 core or PyYAML would not read a string."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tags = {_go_resolve(value)[0], _core_tag(value), super().resolve(kind, value, implicit)}  # type: ignore[no-untyped-call]
            return tags.pop() if len(tags) == 1 else "tag:upskill.io,2026:ambiguous"
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
