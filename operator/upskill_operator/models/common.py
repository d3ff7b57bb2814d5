"""Building blocks shared by the three kinds: the base model, conditions and kind metadata.

The CRD YAML is generated from these models (see :mod:`upskill_operator.crds`), so
every field carries a description and constraints live in the model, once.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasGenerator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "RESERVED_TAG_PREFIXES",
    "Condition",
    "ConditionStatus",
    "ConditionType",
    "KindInfo",
    "Model",
    "Phase",
    "PrinterColumn",
    "ResourceStatus",
    "StatusModel",
    "Tags",
    "check_tags",
    "format_errors",
    "immutable",
]

API_GROUP = "upskill.io"
API_VERSION = "v1alpha1"


class Model(BaseModel):
    """Base of every spec model: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(alias=to_camel),
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def wire(self) -> dict[str, Any]:
        """The camelCase JSON form, without unset optionals."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class StatusModel(Model):
    """Base of status models: tolerant of fields written by newer versions."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def immutable(message: str) -> dict[str, Any]:
    """Schema extra for a field that may not change after creation (a CEL transition rule)."""
    return {"x-kubernetes-validations": [{"rule": "self == oldSelf", "message": message}]}


RESERVED_TAG_PREFIXES = ("aws:", "upskill.io/")
# Letters, digits, the space character and _ . : / = + - @ (AWS's tag alphabet). Not \s: AWS refuses
# tabs and newlines, and letting them through would also allow log-line injection.
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """AWS tag rules, plus our reserved prefixes; the same for every kind."""
    if len(tags) > 40:
        raise ValueError(f"at most 40 tags (got {len(tags)})")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise ValueError(f"tag keys take 1-128 characters and values up to 256 (key {key[:40]!r})")
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            raise ValueError(f"tag key {key[:40]!r} uses a reserved prefix (aws: or upskill.io/)")
        if not _TAG_TEXT.fullmatch(key + value):
            raise ValueError(f"tag {key[:40]!r} has characters AWS does not allow in tags")
    return tags


Tags = Annotated[dict[str, str], AfterValidator(check_tags)]
"""Extra AWS tags of a spec, checked by :func:`check_tags`."""


class ConditionType(enum.StrEnum):
    READY = "Ready"
    SYNCED = "Synced"
    TERMINAL = "Terminal"
    RECOVERABLE = "Recoverable"


ConditionStatus = Literal["True", "False", "Unknown"]


class Phase(enum.StrEnum):
    PENDING = "Pending"
    CREATING = "Creating"
    READY = "Ready"
    UPDATING = "Updating"
    DELETING = "Deleting"
    FAILED = "Failed"


class Condition(StatusModel):
    """One observation about the resource, in the Kubernetes condition convention."""

    type: str = Field(description="Ready, Synced, Terminal or Recoverable (and kind-specific types).")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field("", description="A CamelCase word for machines.")
    message: str = Field("", description="A sentence for humans.")
    last_transition_time: str | None = Field(None, description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(None, description="metadata.generation this condition describes.")


class ResourceStatus(StatusModel):
    """Status fields every kind carries."""

    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Synced, Terminal, Recoverable.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    observed_generation: int | None = Field(None, description="The last metadata.generation reconciled.")
    phase: Phase | None = Field(None, description="Pending, Creating, Ready, Updating, Deleting or Failed.")
    last_sync_time: str | None = Field(None, description="When AWS was last observed (RFC 3339).")
    message: str | None = Field(None, description="What the operator is doing or waiting for.")


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0


@dataclass(frozen=True)
class KindInfo:
    """Everything the CRD generator and the handlers need to know about one kind."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec: type[Model]
    status: type[StatusModel]
    description: str
    columns: Sequence[PrinterColumn] = field(default_factory=tuple)

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{API_GROUP}"

    @property
    def api_version(self) -> str:
        return f"{API_GROUP}/{API_VERSION}"


def _loc(parts: Sequence[int | str]) -> str:
    """Render a pydantic error location (already in wire names) as ``keys.partition.type`` or ``gsi[0]``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


def format_errors(exc: ValidationError, prefix: str = "spec") -> list[str]:
    """One ``path: message`` line per problem, naming the field and the rule, never echoing values of secrets."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        path = _loc(err["loc"])
        where = f"{prefix}.{path}" if path else prefix
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        lines.append(f"{where}: {msg}")
    return lines
