"""UpskillSecret: a Secrets Manager secret, kept in step with keys of a Kubernetes Secret.

No model here holds a secret value: the spec says where a value comes from, the status which
version was synced. Values only ever live in Secrets Manager and the target Kubernetes Secret.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from upskill_operator.models.common import (
    KindInfo,
    KmsKeyId,
    LocalReference,
    Model,
    PrinterColumn,
    ResourceStatus,
    Tags,
    immutable,
)
from upskill_operator.models.postgres import ApplicationRoleName, GroupRoleName
from upskill_operator.models.rules import (
    Between,
    Cel,
    LocalName,
    Matches,
    Problem,
    cel_rules,
    raise_all,
    same_namespace,
)
from upskill_operator.models.schedule import Schedule, check_rotation, every_days, parse_schedule

__all__ = [
    "IAM_HIDDEN_FIELDS",
    "KIND",
    "ROTATE_ANNOTATION",
    "DatabaseSource",
    "FromSecretSource",
    "GenerateSource",
    "KeyMapping",
    "RestartTarget",
    "RotationSpec",
    "SecretSpec",
    "SecretStatus",
    "SourceSpec",
    "TargetSpec",
]

ROTATE_ANNOTATION = "upskill.io/rotate"
"""Set to ``now`` (or any new value, e.g. a timestamp) to rotate once; each distinct value rotates once."""

EnvName = Annotated[
    str,
    Matches(r"^[A-Za-z_][A-Za-z0-9_]*$", "must be an environment variable name (A-Z a-z 0-9 _, no leading digit)", 253),
]


def _secret_key(key: str) -> str:
    """Kubernetes also refuses the keys ``.`` and ``..`` and any key starting with ``..`` (IsConfigMapKey)."""
    if key in (".", "..") or key.startswith(".."):
        raise ValueError("must not be '.' or '..' or start with '..' (Kubernetes refuses such Secret keys)")
    return key


SecretKey = Annotated[
    str,
    Matches(r"^[-._a-zA-Z0-9]+$", "must be a Kubernetes Secret key: a-z A-Z 0-9 - . _", 253),
    AfterValidator(_secret_key),
]
AwsSecretName = Annotated[str, Matches(r"^[A-Za-z0-9/_+=.@-]+$", "must use only A-Z a-z 0-9 / _ + = . @ -", 512)]
_LAMBDA_ARN = r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
LambdaArn = Annotated[str, Matches(_LAMBDA_ARN, "must be a Lambda function ARN", 256)]

ONE_SOURCE = Cel(
    "(has(self.generate) ? 1 : 0) + (has(self.fromSecret) ? 1 : 0) + (has(self.database) ? 1 : 0) == 1",
    "exactly one of generate, fromSecret or database must be set",
)
SAME_NAMESPACE = same_namespace("an UpskillDatabase")
REF_IN_NAMESPACE = Cel("!self.ref.contains('/')", SAME_NAMESPACE, ".ref")
ONE_KEY_FORM = Cel("has(self.key) != has(self.keys)", "exactly one of key or keys must be set")
ONE_SCHEDULE = Cel(
    "!(has(self.everyDays) && has(self.scheduleExpression))", "set everyDays or scheduleExpression, not both"
)
SCHEDULE_NEEDED = Cel(
    "!self.enabled || has(self.everyDays) || has(self.scheduleExpression)",
    "enabled rotation needs everyDays or scheduleExpression",
)
KEYS_NEED_JSON = Cel(
    "!has(self.target) || !has(self.target.keys)"
    " || (has(self.source.database) && self.source.database.format == 'json')",
    "needs a JSON value (source.database.format: json)",
    ".target.keys",
)
FROM_SECRET_ROTATION = Cel(
    "!has(self.rotation) || !self.rotation.enabled || !has(self.source.fromSecret) || has(self.rotation.lambdaArn)",
    "cannot rotate a fromSecret value without lambdaArn (a person provides it)",
    ".rotation",
)
FORCE_NEEDS_DELETE = Cel(
    "!self.forceDelete || self.deletionPolicy == 'Delete'", "only applies with deletionPolicy: Delete", ".forceDelete"
)


def _check_schedule(expression: str) -> str:
    check_rotation(expression)  # ValueError with a message naming the problem
    return expression


DOCUMENT_FIELDS = (
    "auth",
    "dbname",
    "engine",
    "host",
    "password",
    "port",
    "region",
    "sslmode",
    "sslrootcert",
    "url",
    "username",
)
"""The fields of the JSON value a database source builds (format: json)."""
IAM_HIDDEN_FIELDS = ("password", "url")
"""Fields an IAM user's JSON value does not carry (it logs in with a token)."""
MASTER_IAM_ON_CLUSTER = Cel(
    "!has(self.auth) || self.auth != 'IAM' || has(self.user) || !has(self.endpoint)"
    " || self.endpoint in ['proxy', 'proxyReadOnly']",
    "IAM is for application users on writer/reader: the master user logs in with its password there"
    " (set user, or auth: Password)",
    ".auth",
)
IAM_KEYS = Cel(
    "!has(self.target) || !has(self.target.keys) || !has(self.source.database) || !has(self.source.database.auth)"
    " || self.source.database.auth != 'IAM' || self.target.keys.all(k, k.field != 'password' && k.field != 'url')",
    "an IAM value has no password or url field (source.database.auth: IAM)",
    ".target.keys",
)


class GenerateSource(Model):
    """A random value from Secrets Manager's GetRandomPassword, e.g. BETTER_AUTH_SECRET."""

    length: Annotated[int, Between(8, 4096)] = Field(48, description="Characters, 8-4096.")
    exclude_punctuation: bool = Field(False, description="Leave out punctuation (safer in URLs and shells).")
    exclude_numbers: bool = Field(False, description="Leave out digits.")
    exclude_uppercase: bool = Field(False, description="Leave out upper-case letters.")
    exclude_lowercase: bool = Field(False, description="Leave out lower-case letters.")
    exclude_characters: str = Field("", max_length=4096, description="Characters never to use.")
    include_space: bool = Field(False, description="Allow the space character.")
    require_each_included_type: bool = Field(True, description="At least one character of every included type.")

    @model_validator(mode="after")
    def _something_left(self) -> GenerateSource:
        kinds = (self.exclude_punctuation, self.exclude_numbers, self.exclude_uppercase, self.exclude_lowercase)
        if all(kinds) and not self.include_space:
            raise ValueError("excludes every kind of character: nothing is left to generate from")
        return self


class FromSecretSource(LocalReference):
    """Import a value a person put in a Kubernetes Secret of this namespace (API keys)."""

    referent = "a Secret"

    name: Annotated[str, LocalName("a Secret")] = Field(description="Kubernetes Secret in this namespace.")
    key: SecretKey = Field(description="Key in that Secret.")


class DatabaseSource(LocalReference):
    """A PostgreSQL URL (or JSON) built from an UpskillDatabase's status and credentials, TLS verified."""

    model_config = ConfigDict(json_schema_extra=cel_rules(REF_IN_NAMESPACE, MASTER_IAM_ON_CLUSTER))
    referent = "an UpskillDatabase"

    ref: Annotated[str, LocalName("an UpskillDatabase")] = Field(
        description="Name of an UpskillDatabase in this namespace (no namespace/ prefix)."
    )
    endpoint: Literal["proxy", "proxyReadOnly", "writer", "reader"] = Field("proxy", description="Endpoint to use.")
    format: Literal["url", "json"] = Field("url", description="url: postgresql://...; json: host, port, ... fields.")
    user: ApplicationRoleName | None = Field(
        None,
        description="Application role the operator creates and keeps; omit for the master user. On the proxy"
        " endpoints, the database's RDS Proxy is given this secret and the value is synced once it accepts it.",
    )
    auth: Literal["Password", "IAM"] | None = Field(
        None,
        description="How this user logs in. Password: the value carries the password. IAM: no password; the app"
        " signs an IAM auth token (rds-signer, generate_db_auth_token). Omitted: the master user on a proxy endpoint"
        " follows the database's spec.proxy.iamAuth, everything else Password. Users of one database must agree.",
    )
    member_of: list[GroupRoleName] = Field(
        default_factory=list,
        max_length=10,
        description="NOLOGIN group roles (made by migrations, e.g. betterauth_app, course_readwrite,"
        " course_readonly) the operator grants this application user; memberships not listed are revoked.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )

    @model_validator(mode="after")
    def _auth_fits(self) -> DatabaseSource:
        problems: list[Problem] = []
        if self.auth == "IAM" and self.user is None and self.endpoint in ("writer", "reader"):
            problems.append((MASTER_IAM_ON_CLUSTER.loc, MASTER_IAM_ON_CLUSTER.message))
        if self.member_of and self.user is None:
            problems.append((("memberOf",), "needs user: the master user owns the schema already"))
        if repeated := sorted({g for g in self.member_of if self.member_of.count(g) > 1}):
            problems.append((("memberOf",), f"must not repeat roles (repeated: {', '.join(repeated)})"))
        if self.user is not None and self.user in self.member_of:
            problems.append((("memberOf",), f"must not name the user itself ({self.user})"))
        raise_all(problems)
        return self

    def login(self, proxy_iam: str | None) -> Literal["Password", "IAM"]:
        """The effective auth: ``auth``, or its default given the database's spec.proxy.iamAuth."""
        if self.auth is not None:
            return self.auth
        on_proxy = self.endpoint in ("proxy", "proxyReadOnly")
        return "IAM" if self.user is None and on_proxy and proxy_iam == "Required" else "Password"


class SourceSpec(Model):
    """Where the value comes from: exactly one of generate, fromSecret or database."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_SOURCE))

    generate: GenerateSource | None = Field(None, description="Generate a random value.")
    from_secret: FromSecretSource | None = Field(None, description="Import from a Kubernetes Secret key.")
    database: DatabaseSource | None = Field(None, description="Build a connection URL for an UpskillDatabase.")

    @model_validator(mode="after")
    def _exactly_one(self) -> SourceSpec:
        if sum(s is not None for s in (self.generate, self.from_secret, self.database)) != 1:
            raise ValueError(ONE_SOURCE.message)
        return self


class RotationSpec(Model):
    """Rotation: AWS-driven with lambdaArn; otherwise the operator writes new versions on schedule."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_SCHEDULE, SCHEDULE_NEEDED))

    enabled: bool = Field(True, description="Rotate on schedule (and on the upskill.io/rotate annotation).")
    every_days: Annotated[int, Between(1, 1000)] | None = Field(None, description="Rotate every N days, 1-1000.")
    schedule_expression: (
        Annotated[
            str, Matches(r"^(rate|cron)\(.+\)$", "must be rate(...) or cron(...)", 256), AfterValidator(_check_schedule)
        ]
        | None
    ) = Field(None, description="Secrets Manager schedule: rate(10 days), rate(12 hours) or cron(0 4 1 * ? *) (UTC).")
    lambda_arn: LambdaArn | None = Field(None, description="Rotation Lambda; AWS then rotates the secret.")

    @model_validator(mode="after")
    def _schedule(self) -> RotationSpec:
        if self.every_days is not None and self.schedule_expression is not None:
            raise ValueError(ONE_SCHEDULE.message)
        if self.enabled and self.every_days is None and self.schedule_expression is None:
            raise ValueError(SCHEDULE_NEEDED.message)
        return self

    def schedule(self) -> Schedule | None:
        """The parsed schedule; None when rotation is off."""
        if not self.enabled:
            return None
        if self.every_days is not None:
            return every_days(self.every_days)
        return parse_schedule(self.schedule_expression) if self.schedule_expression else None


class KeyMapping(Model):
    """One Kubernetes Secret key taken from one field of a JSON value."""

    key: EnvName = Field(description="Key in the Kubernetes Secret (an environment variable name).")
    field: Annotated[str, Matches(r"^[A-Za-z0-9_]+$", "must be a JSON field name: A-Z a-z 0-9 _", 63)] = Field(
        description="Field of the JSON value: host, port, dbname, username, password, url, region, sslmode,"
        " sslrootcert or auth."
    )


class RestartTarget(LocalReference):
    """A workload rolled (pod-template annotation) when the synced version changes."""

    referent = "a workload"

    kind: Literal["Deployment", "StatefulSet", "DaemonSet"] = Field(description="Workload kind.")
    name: Annotated[str, LocalName("a workload")] = Field(description="Workload name in this namespace.")


class TargetSpec(LocalReference):
    """The Kubernetes Secret apps read. The operator owns only the keys it writes there."""

    model_config = ConfigDict(json_schema_extra=cel_rules(ONE_KEY_FORM))
    referent = "a Secret"

    secret_name: Annotated[str, LocalName("a Secret")] = Field(
        description="Kubernetes Secret in this namespace (created if missing)."
    )
    key: EnvName | None = Field(None, description="Key receiving the whole value.")
    keys: list[KeyMapping] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="Keys receiving fields of a JSON value.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )
    refresh_interval_seconds: Annotated[int, Between(10, 86400)] = Field(
        300, description="Seconds between checks for a new version in Secrets Manager, 10-86400."
    )
    restart_on_change: list[RestartTarget] = Field(
        default_factory=list,
        max_length=20,
        description="Workloads to roll when the value changes.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["kind", "name"]},
    )

    @model_validator(mode="after")
    def _forms(self) -> TargetSpec:
        problems: list[Problem] = []
        if (self.key is None) == (self.keys is None):
            problems.append(((), ONE_KEY_FORM.message))
        keys = [m.key for m in self.keys or ()]
        if repeated := sorted({k for k in keys if keys.count(k) > 1}):
            problems.append((("keys",), f"must not repeat keys (repeated: {', '.join(repeated)})"))
        workloads = [f"{r.kind}/{r.name}" for r in self.restart_on_change]
        if repeated := sorted({w for w in workloads if workloads.count(w) > 1}):
            problems.append((("restartOnChange",), f"must not repeat workloads (repeated: {', '.join(repeated)})"))
        raise_all(problems)
        return self


class SecretSpec(Model):
    """Desired state of a Secrets Manager secret and its copy in a Kubernetes Secret."""

    model_config = ConfigDict(
        json_schema_extra=cel_rules(KEYS_NEED_JSON, FROM_SECRET_ROTATION, FORCE_NEEDS_DELETE, IAM_KEYS)
    )

    source: SourceSpec = Field(description="Where the value comes from.")
    secret_name: AwsSecretName | None = Field(
        None,
        description="Secrets Manager name. Defaults to one derived from namespace and name. Immutable.",
        json_schema_extra=immutable("spec.secretName: immutable after creation"),
    )
    description: str | None = Field(None, max_length=2048, description="Secrets Manager description.")
    kms_key_id: KmsKeyId | None = Field(None, description="KMS key; omit for aws/secretsmanager.")
    rotation: RotationSpec | None = Field(None, description="Rotation schedule; omit for none.")
    recovery_window_days: Annotated[int, Between(7, 30)] = Field(
        7, description="Days a deleted secret stays recoverable, 7-30 (deletionPolicy Delete without forceDelete)."
    )
    force_delete: bool = Field(False, description="With deletionPolicy Delete: delete at once, unrecoverably.")
    deletion_policy: Literal["Retain", "Delete"] = Field(
        "Delete",
        description="Delete (default) schedules deletion after recoveryWindowDays, so the value stays recoverable; "
        "Retain leaves the secret.",
    )
    adopt: bool = Field(
        False,
        description="Adopt an existing, untagged secret with the derived name (or one an administrator granted the "
        "namespace in UPSKILL_ADOPT_SCOPES).",
    )
    tags: Tags = Field(default_factory=dict, description="Extra AWS tags (the upskill.io/ prefix is ours).")
    target: TargetSpec | None = Field(None, description="Kubernetes Secret to keep in step; omit for none.")

    @model_validator(mode="after")
    def _cross_fields(self) -> SecretSpec:
        problems: list[Problem] = []
        database = self.source.database
        if self.target and self.target.keys and (database is None or database.format != "json"):
            problems.append((KEYS_NEED_JSON.loc, KEYS_NEED_JSON.message))
        elif self.target and self.target.keys:
            problems += [
                (
                    ("target", "keys", i, "field"),
                    f"must be one of {', '.join(DOCUMENT_FIELDS)} (the database JSON value)",
                )
                for i, mapping in enumerate(self.target.keys)
                if mapping.field not in DOCUMENT_FIELDS
            ]
            if database is not None and database.auth == "IAM":
                problems += [
                    (("target", "keys", i, "field"), IAM_KEYS.message)
                    for i, mapping in enumerate(self.target.keys)
                    if mapping.field in IAM_HIDDEN_FIELDS
                ]
        rotation = self.rotation
        if rotation and rotation.enabled and self.source.from_secret and rotation.lambda_arn is None:
            problems.append((FROM_SECRET_ROTATION.loc, FROM_SECRET_ROTATION.message))
        if self.force_delete and self.deletion_policy != "Delete":
            problems.append((FORCE_NEEDS_DELETE.loc, FORCE_NEEDS_DELETE.message))
        raise_all(problems)
        return self


class SecretStatus(ResourceStatus):
    """Observed state: versions in Secrets Manager and what was synced. Never a value."""

    arn: str | None = Field(None, description="Secret ARN.")
    secret_name: str | None = Field(None, description="Secrets Manager name.")
    version_id: str | None = Field(None, description="Version id labelled AWSCURRENT.")
    version_created_time: str | None = Field(None, description="When the current version was created (RFC 3339).")
    previous_version_id: str | None = Field(None, description="Version id labelled AWSPREVIOUS.")
    last_rotated_time: str | None = Field(None, description="When the secret was last rotated (RFC 3339).")
    next_rotation_time: str | None = Field(None, description="When the next rotation is due (RFC 3339).")
    synced_version_id: str | None = Field(None, description="Version last written to the Kubernetes Secret.")
    synced_time: str | None = Field(None, description="When it was written (RFC 3339).")
    synced_keys: list[str] = Field(default_factory=list, description="Kubernetes Secret keys the operator owns.")
    synced_secret_name: str | None = Field(
        None, description="Kubernetes Secret holding those keys (its keys are removed when target.secretName changes)."
    )
    last_refresh_time: str | None = Field(
        None, description="When the Kubernetes Secret was last compared with Secrets Manager (RFC 3339)."
    )
    restarted_version_id: str | None = Field(None, description="Version the restartOnChange workloads were rolled for.")
    rotation_request: str | None = Field(None, description="Last upskill.io/rotate annotation value handled.")
    rotation_requested_time: str | None = Field(
        None, description="When a database password rotation was requested from RDS and not yet seen (RFC 3339)."
    )
    rotation_requested_version: str | None = Field(
        None, description="Version of the credentials when that rotation was requested: a new one means it arrived."
    )
    managed_tag_keys: list[str] = Field(default_factory=list, description="Tag keys the operator set last time.")


KIND = KindInfo(
    kind="UpskillSecret",
    plural="upskillsecrets",
    singular="upskillsecret",
    short_names=("usecret",),
    spec=SecretSpec,
    status=SecretStatus,
    description="A Secrets Manager secret, synced to a Kubernetes Secret, with rotation that reaches the pods.",
    columns=(
        PrinterColumn("Ready", '.status.conditions[?(@.type=="Ready")].status', description="Ready condition."),
        PrinterColumn("Phase", ".status.phase", description="Lifecycle phase."),
        PrinterColumn("ARN", ".status.arn", description="Secret ARN."),
        PrinterColumn("Synced", ".status.syncedTime", description="Last sync to Kubernetes.", priority=1),
        PrinterColumn("Age", ".metadata.creationTimestamp", type="date"),
    ),
)
