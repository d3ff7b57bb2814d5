"""Building blocks shared by the three kinds: the base model, conditions and kind metadata.

The CRD YAML is generated from these models (see :mod:`upskill_operator.generate.crds`), so
every field carries a description and constraints live in the model, once.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from upskill_operator.models.rules import Matches, fail, same_namespace

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "DYNAMODB_TAGS",
    "MAX_TAGS",
    "RDS_TAGS",
    "RESERVED_TAG_PREFIXES",
    "SECRETS_MANAGER_TAGS",
    "Condition",
    "ConditionStatus",
    "ConditionType",
    "DataObjectGone",
    "KindInfo",
    "KmsKeyId",
    "LocalReference",
    "Model",
    "Phase",
    "PrinterColumn",
    "RdsTags",
    "ResourceStatus",
    "StatusModel",
    "TableTags",
    "TagService",
    "Tags",
    "check_tags",
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
# tabs and newlines, and letting them through would also allow log-line injection. Python's \w is
# Unicode-aware, as AWS is (letters of any script); zero-width and direction-override characters are
# format characters (Cf), not letters, so they are refused.
_TAG_CHAR = re.compile(r"[\w .:/=+\-@]")
_TAG_ALPHABET = "letters, digits, spaces and _ . : / = + - @"
MAX_TAGS = 40
"""User tags per resource: AWS allows 50 per object, and the operator adds its ownership tags."""


@dataclass(frozen=True)
class TagService:
    """What one AWS service adds to the common tag rules.

    ``no_at``: DynamoDB's tag alphabet has no ``@`` (its tagging restrictions list ``+ - = . _ : /``).
    ``reserved``: prefixes refused in keys and values besides ``aws:`` (RDS refuses ``rds:``).
    """

    name: str
    reserved: tuple[str, ...] = ()
    no_at: bool = False


DYNAMODB_TAGS = TagService("DynamoDB", no_at=True)
RDS_TAGS = TagService("RDS", reserved=("rds:",))
SECRETS_MANAGER_TAGS = TagService("Secrets Manager")


def _bad_char(text: str, service: TagService) -> str | None:
    return next((c for c in text if not _TAG_CHAR.fullmatch(c) or (service.no_at and c == "@")), None)


def _alphabet(service: TagService) -> str:
    return "letters, digits, spaces and _ . : / = + -" if service.no_at else _TAG_ALPHABET


def _tag_problem(key: str, value: str, service: TagService) -> str | None:
    shown = repr(key[:40])
    if not 1 <= len(key) <= 128:
        return f"tag key {shown} must be 1-128 characters (got {len(key)})"
    if len(value) > 256:
        return f"tag {shown}: the value must be at most 256 characters (got {len(value)})"
    if key.lower().startswith(RESERVED_TAG_PREFIXES):
        return f"tag key {shown} uses a reserved prefix (aws: or upskill.io/)"
    if key.lower().startswith(service.reserved):
        return f"tag key {shown} uses a prefix {service.name} reserves ({', '.join(service.reserved)})"
    if value.lower().startswith(("aws:", *service.reserved)):
        prefixes = " or ".join(("aws:", *service.reserved))
        return f"tag {shown}: the value must not start with {prefixes} ({service.name} refuses it)"
    if (bad := _bad_char(key, service)) is not None:
        return f"tag key {shown} has a character AWS does not allow in tags ({bad!r}); use {_alphabet(service)}"
    if (bad := _bad_char(value, service)) is not None:
        return f"tag {shown}: the value has a character AWS does not allow in tags ({bad!r}); use {_alphabet(service)}"
    return None


def check_tags(tags: dict[str, str], service: TagService = SECRETS_MANAGER_TAGS) -> dict[str, str]:
    """AWS tag rules of ``service``, plus our reserved prefixes.

    Keys are quoted with ``!r`` (escaped, at most 40 characters), so a key carrying a newline or a
    direction override cannot forge a log line or a status message.
    """
    if len(tags) > MAX_TAGS:
        raise ValueError(f"must have at most {MAX_TAGS} tags (got {len(tags)})")
    for key, value in tags.items():
        if (problem := _tag_problem(key, value, service)) is not None:
            raise ValueError(problem)
    return tags


@dataclass(frozen=True)
class _TagRules:
    """:func:`check_tags`, plus the part of it the CRD schema can say (count and value length)."""

    service: TagService

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            lambda tags: check_tags(tags, self.service), handler(source)
        )

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["maxProperties"] = MAX_TAGS
        if isinstance(out.get("additionalProperties"), dict):
            out["additionalProperties"]["maxLength"] = 256
        return out


Tags = Annotated[dict[str, str], _TagRules(SECRETS_MANAGER_TAGS)]
"""Extra AWS tags of an UpskillSecret (Secrets Manager's rules), checked by :func:`check_tags`."""
TableTags = Annotated[dict[str, str], _TagRules(DYNAMODB_TAGS)]
"""Extra AWS tags of an UpskillTable (DynamoDB's rules: no ``@``)."""
RdsTags = Annotated[dict[str, str], _TagRules(RDS_TAGS)]
"""Extra AWS tags of an UpskillDatabase (RDS's rules: no ``aws:`` or ``rds:`` in keys or values)."""


_KEY_ID = r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_KMS_KEY = (
    rf"^(alias/[a-zA-Z0-9/_-]{{1,250}}|{_KEY_ID}"
    rf"|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{{12}}:(key/{_KEY_ID}|alias/[a-zA-Z0-9/_-]{{1,250}}))$"
)
"""Key id (a UUID or a multi-Region ``mrk-`` id), key ARN, alias name or alias ARN, as KMS names them."""
KmsKeyId = Annotated[str, Matches(_KMS_KEY, "must be a KMS key id, key ARN, alias name (alias/...) or alias ARN", 2048)]
"""A KMS key as AWS APIs accept it; anything else (a typo, an injection attempt) never reaches AWS."""


class LocalReference(Model):
    """Base of models naming an object in the resource's own namespace.

    Such a reference has no ``namespace``; one given is refused by name (rather than as an unknown
    field) so the message says why: an UpskillSecret must not read another team's objects.
    """

    referent: ClassVar[str] = "an object"

    @model_validator(mode="before")
    @classmethod
    def _no_namespace(cls, data: Any) -> Any:
        if isinstance(data, dict) and "namespace" in data:
            fail((("namespace",), same_namespace(cls.referent)))
        return data


class ConditionType(enum.StrEnum):
    READY = "Ready"
    SYNCED = "Synced"
    TERMINAL = "Terminal"
    RECOVERABLE = "Recoverable"
    LATE_INITIALIZED = "LateInitialized"
    """Present (True) only while AWS chose values for fields the spec leaves unset."""
    ALARMS_OK = "AlarmsOK"
    """With ``spec.monitoring``: False while one of the resource's CloudWatch alarms is in ALARM."""


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

    type: str = Field(description="Ready, Synced, Terminal, Recoverable or LateInitialized (and kind-specific types).")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field("", description="A CamelCase word for machines.")
    message: str = Field("", description="A sentence for humans.")
    last_transition_time: str | None = Field(None, description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(None, description="metadata.generation this condition describes.")


class DataObjectGone(StatusModel):
    """A data-bearing AWS object status recorded, found gone: what a re-creation must be approved with."""

    step: str = Field(description="The step of the object (cluster, table, secret).")
    object: str = Field(description="The AWS object's name.")
    since: str = Field(description="When the operator first found it gone (RFC 3339); part of the approval.")


class ResourceStatus(StatusModel):
    """Status fields every kind carries."""

    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Synced, Terminal, Recoverable; LateInitialized while AWS defaults unset fields.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    observed_generation: int | None = Field(None, description="The last metadata.generation reconciled.")
    phase: Phase | None = Field(None, description="Pending, Creating, Ready, Updating, Deleting or Failed.")
    last_sync_time: str | None = Field(
        None,
        description="When a pass last changed status (RFC 3339). Passes that find nothing to change write "
        "nothing; upskill_resource_last_pass_timestamp_seconds says when the last one ran.",
    )
    last_handled_configuration: str | None = Field(
        None,
        description="The spec (and labels and annotations) the operator last handled, as JSON: kopf's diff "
        "base, kept in status so that it goes out in the same write as the status itself.",
    )
    message: str | None = Field(None, description="What the operator is doing or waiting for.")
    data_object_gone: DataObjectGone | None = Field(
        None,
        description="Set while a data-bearing object status recorded is gone from AWS and Terminal (DataObjectGone): "
        "annotate upskill.io/recreate-empty with <object>@<since> to re-create it empty.",
    )


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
