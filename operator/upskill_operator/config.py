"""Operator settings, parsed once from the environment.

Every knob has a default that works against real AWS; the sandbox and the tests
build a :class:`Settings` explicitly instead of mutating the environment.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["AwsSettings", "Settings"]

_PREFIX = "UPSKILL_"


def _ip_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"must be an IPv4 or IPv6 address such as 0.0.0.0, :: or 127.0.0.1 (got {value!r})") from None
    return value


ListenAddress = Annotated[str, AfterValidator(_ip_address)]
"""The address a server binds: all IPv4 interfaces (0.0.0.0), all interfaces (::), or one address."""


class AwsSettings(BaseModel):
    """How the operator reaches AWS."""

    model_config = ConfigDict(frozen=True)

    region: str = Field("us-east-1", description="AWS region of every managed object.")
    endpoint_url: str | None = Field(None, description="Override for every service (an emulator); None for AWS.")
    max_attempts: int = Field(5, ge=1, le=20, description="botocore standard-mode attempts per call.")
    connect_timeout_seconds: float = Field(5.0, gt=0)
    read_timeout_seconds: float = Field(20.0, gt=0)
    calls_per_second: dict[str, float] = Field(
        default_factory=lambda: {"rds": 8.0, "dynamodb": 250.0, "secretsmanager": 30.0, "kms": 50.0},
        description="Client-side rate limit per service, so a fleet never storms an account's API quota.",
    )
    access_key_id: str | None = Field(
        None, description="Static credentials (the sandbox's); None uses botocore's default credential chain."
    )
    secret_access_key: SecretStr | None = Field(None, description="Paired with access_key_id; never logged.")


class Settings(BaseModel):
    """Everything the operator reads at start-up."""

    model_config = ConfigDict(frozen=True)

    aws: AwsSettings = Field(default_factory=AwsSettings)
    name_prefix: str = Field("upskill", description="Prefix of deterministic AWS names.")
    resync_seconds: float = Field(300.0, gt=0, description="Drift check interval per resource.")
    requeue_seconds: float = Field(5.0, gt=0, description="Delay before re-checking an object AWS is still changing.")
    max_steps_per_pass: int = Field(8, ge=1, description="Writes one reconcile pass may chain before requeueing.")
    metrics_port: int = Field(9090, ge=0, le=65535, description="Prometheus port; 0 disables the server.")
    metrics_address: ListenAddress = Field(
        "0.0.0.0",  # noqa: S104 - Prometheus scrapes the pod through its Service
        description="Address the metrics server listens on (127.0.0.1 keeps it local; :: for IPv6).",
    )
    finalizer: str = Field("upskill.io/finalizer", description="Finalizer the operator owns.")
    proxy_role_boundary_arn: str | None = Field(
        None,
        description="Permissions boundary (the managed policy of manifests/iam/proxy-role-boundary.json) set on "
        "every IAM role the operator creates; its IAM policy refuses CreateRole without it.",
    )
    namespaces: tuple[str, ...] = Field((), description="Namespaces to watch; empty means cluster-wide.")
    kubeconfig: str | None = Field(None, description="Kubeconfig path; None means in-cluster or the default chain.")
    workers: int = Field(16, ge=1, description="Worker threads per kind, for its blocking AWS and Kubernetes calls.")
    webhook_port: int = Field(0, ge=0, le=65535, description="Admission webhook port (9443 in-cluster); 0 is off.")
    webhook_address: ListenAddress = Field(
        "0.0.0.0",  # noqa: S104 - the API server reaches the pod through its Service
        description="Address the admission webhook listens on (:: for IPv6-only clusters).",
    )
    webhook_certfile: str | None = Field(None, description="TLS certificate for the webhook (cert-manager's).")
    webhook_keyfile: str | None = Field(None, description="TLS key for the webhook.")
    webhook_insecure: bool = Field(False, description="Serve the webhook over plain HTTP (tests only).")
    endpoint_map: dict[str, str] = Field(
        default_factory=dict,
        description="Where to connect instead of an AWS endpoint: host glob (e.g. *.rds.amazonaws.com) -> "
        "host[:port] or a unix socket directory[:port]. First match wins; see upskill_operator.endpoints.",
    )
    endpoint_map_file: str | None = Field(
        None,
        description="JSON file of more endpoint map entries (exact host or glob -> host:port), consulted before "
        "endpoint_map and re-read when it changes: the sandbox writes one entry per emulated RDS endpoint.",
    )
    kind_resync_seconds: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: {"UpskillDatabase": 1200.0},
        description="Drift check interval per kind, overriding resync_seconds. A database resync costs two "
        "RDS reads, plus its deep reads every deep_read_every resyncs; RDS allows about 12 per second per account.",
    )
    deep_read_every: int = Field(
        6,
        ge=1,
        description="Deep reads on every this-many-th pass of an object (each resync is one, and at the latest after "
        "this many resync intervals plus one): a table's TTL, backups and tags, a "
        "database's network, role and proxy parts. Every resync makes the cheap reads (DescribeTable; the cluster and "
        "its instances), and a spec change, a change those show, or a write makes the deep reads at once; 1 reads "
        "everything on every pass. Drift in a deep-read field is repaired within this many resync intervals.",
    )
    migrations_dir: str | None = Field(
        None, description="Folder of the built-in migration sets (betterauth/, course/); None finds ./migrations."
    )
    probe_timeout_seconds: float = Field(5.0, gt=0, description="Connect, statement and client timeout of a probe.")
    probe_status_seconds: float = Field(
        300.0,
        gt=0,
        description="Write status.latency at most this often, unless LatencyWithinSLO changes: status is "
        "state, the live latency is in upskill_probe_latency_seconds.",
    )
    probe_interval_seconds: float | None = Field(
        None, gt=0, description="Override every resource's probe.intervalSeconds (tests and the sandbox)."
    )
    db_ca_bundle: str | None = Field(
        None,
        description="CA bundle (e.g. AWS's global-bundle.pem) to verify database certificates (sslmode "
        "verify-full) when the operator connects for probes and migrations; None only requires TLS.",
    )
    app_ca_path: str | None = Field(
        None,
        description="Where apps find the database CA bundle (the upskill-db-ca ConfigMap's ca.pem as mounted); "
        "delivered URLs then carry sslmode=verify-full&sslrootcert=<this path>. None: sslmode=require.",
    )
    secret_tick_seconds: float = Field(
        10.0, gt=0, description="How often each UpskillSecret checks (from status alone) for a due refresh or rotation."
    )
    sweep_seconds: float = Field(
        60.0,
        ge=0,
        description="How often the stuck-object sweeper lists each kind for objects kopf stopped working on "
        "(a lost wake-up after a 409 on one of its own patches; see handlers/sweeper.py); 0 turns it off.",
    )
    sweep_grace_seconds: float = Field(
        60.0,
        gt=0,
        description="How long an object must owe work (status behind spec, a deletion, an overdue retry) with "
        "an unchanged resourceVersion before the sweeper nudges it.",
    )

    adopt_scopes: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Namespace -> globs (fnmatch, case-sensitive) of AWS names its resources may adopt when "
        "untagged, beyond their own derived names. Set by the cluster administrator on the operator's "
        "Deployment (UPSKILL_ADOPT_SCOPES); nothing in a namespace can widen it. See docs/adoption.md.",
    )

    @field_validator("adopt_scopes")
    @classmethod
    def _namespaces_and_globs(cls, scopes: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for namespace, globs in scopes.items():
            if not _NAMESPACE.fullmatch(namespace):
                raise ValueError(f"UPSKILL_ADOPT_SCOPES: {namespace[:70]!r} is not a namespace name (one DNS label)")
            if not globs or not all(glob.strip() for glob in globs):
                raise ValueError(f"UPSKILL_ADOPT_SCOPES: namespace {namespace!r} needs at least one non-empty glob")
        return scopes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``UPSKILL_*`` variables (and the usual AWS ones)."""
        env = os.environ if environ is None else environ
        aws: dict[str, object] = {}
        if "AWS_REGION" in env or "AWS_DEFAULT_REGION" in env:
            aws["region"] = env.get("AWS_REGION") or env["AWS_DEFAULT_REGION"]
        if env.get("AWS_ENDPOINT_URL"):
            aws["endpoint_url"] = env["AWS_ENDPOINT_URL"]
        if f"{_PREFIX}AWS_MAX_ATTEMPTS" in env:
            aws["max_attempts"] = env[f"{_PREFIX}AWS_MAX_ATTEMPTS"]
        top: dict[str, object] = {"aws": AwsSettings.model_validate(aws)}
        for field in (
            "name_prefix",
            "resync_seconds",
            "requeue_seconds",
            "metrics_port",
            "metrics_address",
            "finalizer",
            "kubeconfig",
            "workers",
            "max_steps_per_pass",
            "deep_read_every",
            "secret_tick_seconds",
            "migrations_dir",
            "probe_timeout_seconds",
            "probe_status_seconds",
            "probe_interval_seconds",
            "db_ca_bundle",
            "app_ca_path",
            "endpoint_map_file",
            "webhook_port",
            "webhook_address",
            "webhook_certfile",
            "webhook_keyfile",
            "sweep_seconds",
            "sweep_grace_seconds",
            "proxy_role_boundary_arn",
        ):
            value = env.get(f"{_PREFIX}{field.upper()}")
            if value:
                top[field] = value
        if env.get(f"{_PREFIX}NAMESPACES"):
            top["namespaces"] = tuple(n.strip() for n in env[f"{_PREFIX}NAMESPACES"].split(",") if n.strip())
        if "kubeconfig" not in top and env.get("KUBECONFIG"):
            top["kubeconfig"] = env["KUBECONFIG"]
        for field in ("endpoint_map", "kind_resync_seconds"):
            if env.get(f"{_PREFIX}{field.upper()}"):
                top[field] = _mapping(env[f"{_PREFIX}{field.upper()}"])
        if env.get(f"{_PREFIX}ADOPT_SCOPES"):
            top["adopt_scopes"] = _scopes(env[f"{_PREFIX}ADOPT_SCOPES"])
        return cls.model_validate(top)


_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A Kubernetes namespace name (RFC 1123 label)."""


def _scopes(text: str) -> dict[str, tuple[str, ...]]:
    """``{"ns": ["glob", ...]}`` (JSON), or ``ns=glob`` pairs separated by commas, a namespace repeated per glob."""
    text = text.strip()
    scopes: dict[str, list[str]] = {}
    if text.startswith("{"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("UPSKILL_ADOPT_SCOPES: expected a JSON object")
        for key, value in loaded.items():
            scopes[str(key)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        return {k: tuple(v) for k, v in scopes.items()}
    for item in text.split(","):
        namespace, _, glob = item.partition("=")
        if item.strip():
            scopes.setdefault(namespace.strip(), []).append(glob.strip())
    return {k: tuple(v) for k, v in scopes.items()}


def _mapping(text: str) -> dict[str, str]:
    """A JSON object, or ``key=value`` pairs separated by commas (order kept: it matters for globs)."""
    text = text.strip()
    if text.startswith("{"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("expected a JSON object")
        return {str(k): str(v) for k, v in loaded.items()}
    pairs = (item.partition("=") for item in text.split(",") if item.strip())
    return {key.strip(): value.strip() for key, _, value in pairs}
