"""The first step of an UpskillSecret: find out what the value should be.

It manages no object of its own (create, update and delete do nothing); its observation carries
the resolved value to the next adapters under :data:`~.secret_value.SOURCE_KEY`, or a
``pending`` message while an input is missing: a Kubernetes Secret not created yet, a database
not Ready yet. The engine turns that into a Progressing condition and a requeue, never a crash
loop and never a write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upskill_operator.adapters.secret.database_source import DatabaseReader, Waiting
from upskill_operator.adapters.secret.values import SOURCE_KEY, Resolved, password_policy
from upskill_operator.adapters.shared.read_only import ReadOnlyStep
from upskill_operator.kube.secrets import KubeSecrets
from upskill_operator.models.secret import FromSecretSource, SecretSpec
from upskill_operator.reconcile.protocol import Observation, Target

__all__ = ["SourceAdapter", "secret_spec"]


def secret_spec(target: Target) -> SecretSpec:
    if not isinstance(target.spec, SecretSpec):
        raise TypeError(f"UpskillSecret adapters need a SecretSpec, got {type(target.spec).__name__}")
    return target.spec


class SourceAdapter(ReadOnlyStep):
    """Resolves ``spec.source``: generate (a policy), fromSecret (a Kubernetes Secret key) or database."""

    name = "source"

    def __init__(self, secrets: KubeSecrets, database: DatabaseReader) -> None:
        self._secrets = secrets
        self._database = database

    def observe(self, target: Target, outputs: Mapping[str, Any]) -> Observation:
        if target.deleting:
            return Observation(exists=False, up_to_date=True)  # nothing of ours to delete; never wait for a value
        try:
            resolved = self._resolve(target)
        except Waiting as waiting:
            return Observation(exists=True, pending=str(waiting))
        return Observation(exists=True, outputs={SOURCE_KEY: resolved})

    def _resolve(self, target: Target) -> Resolved:
        source = secret_spec(target).source
        if source.generate is not None:
            return Resolved(origin="generated", policy=password_policy(source.generate))
        if source.from_secret is not None:
            return self._from_secret(target.namespace, source.from_secret)
        if source.database is not None:
            return self._database.resolve(target.namespace, source.database, target.name)
        raise AssertionError("the model guarantees exactly one source")

    def _from_secret(self, namespace: str, source: FromSecretSource) -> Resolved:
        what = f"Secret {source.name} key {source.key}"
        found = self._secrets.get(namespace, source.name)
        if found is None:
            raise Waiting(f"waiting for Secret {source.name} in namespace {namespace}")
        value = found.data.get(source.key)
        if value is None or not value.get_secret_value():
            raise Waiting(f"waiting for key {source.key} in Secret {source.name}")
        return Resolved(origin=what, content=value)
