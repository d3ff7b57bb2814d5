"""The CA ConfigMap upskill-db-ca, against the emulated Kubernetes API over HTTP: shared by the
namespace's database sources, each an ownerReference, the last one out deletes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from upskill_operator.adapters.secret.ca_configmap import CA_CONFIG_MAP, CA_KEY, CaConfigMapAdapter
from upskill_operator.errors import TerminalError
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.models.secret import SecretSpec
from upskill_operator.reconcile.protocol import Target
from upskill_sandbox.kube import KubeServer

TARGET = {"secretName": "web-env", "key": "DB_URL"}
DATABASE = {"source": {"database": {"ref": "course-db"}}, "target": TARGET}
GENERATED = {"source": {"generate": {"length": 32}}, "target": TARGET}


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    with KubeServer() as server:
        client = Kube(load_configuration(str(server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig"))))
        try:
            yield client
        finally:
            client.close()


@pytest.fixture
def namespace(kube: Kube) -> str:
    name = f"ns-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nfirst\n-----END CERTIFICATE-----\n")
    return path


def target(namespace: str, name: str, spec: dict[str, Any], *, deleting: bool = False) -> Target:
    uid = f"uid-{name}"
    return Target("UpskillSecret", namespace, name, uid, 1, SecretSpec.model_validate(spec), deleting=deleting)


def sync(adapter: CaConfigMapAdapter, t: Target) -> None:
    """What the engine does with one observation (create, update or retire), then: now in sync."""
    observed = adapter.observe(t, {})
    if not observed.exists and not observed.up_to_date:
        adapter.create(t, {})
    elif observed.unwanted or (t.deleting and observed.exists):
        adapter.delete(t, {}, observed, "Delete")
    elif not observed.up_to_date:
        adapter.update(t, {}, observed)
    after = adapter.observe(t, {})
    assert after.up_to_date, after
    assert not (t.deleting and after.exists), after


def owners(kube: Kube, namespace: str) -> list[str]:
    found = kube.get_config_map(namespace, CA_CONFIG_MAP)
    assert found is not None
    return sorted(r["name"] for r in found["metadata"].get("ownerReferences") or [])


def test_database_sources_share_the_map_and_the_last_one_out_deletes_it(
    kube: Kube, namespace: str, bundle: Path
) -> None:
    adapter = CaConfigMapAdapter(kube, str(bundle))
    one, two = target(namespace, "one", DATABASE), target(namespace, "two", DATABASE)
    sync(adapter, one)
    sync(adapter, two)
    found = kube.get_config_map(namespace, CA_CONFIG_MAP)
    assert found is not None
    assert found["data"] == {CA_KEY: bundle.read_text()}
    assert owners(kube, namespace) == ["one", "two"]

    sync(adapter, target(namespace, "one", DATABASE, deleting=True))
    assert owners(kube, namespace) == ["two"]
    sync(adapter, target(namespace, "two", GENERATED))  # no longer a database source: takes its reference off
    assert kube.get_config_map(namespace, CA_CONFIG_MAP) is None


def test_a_new_bundle_is_written_and_other_sources_make_nothing(kube: Kube, namespace: str, bundle: Path) -> None:
    adapter = CaConfigMapAdapter(kube, str(bundle))
    generated = target(namespace, "gen", GENERATED)
    assert adapter.observe(generated, {}).up_to_date
    assert kube.get_config_map(namespace, CA_CONFIG_MAP) is None
    without = CaConfigMapAdapter(kube, None)
    assert adapter.observe(generated, {}).exists is False
    assert without.observe(target(namespace, "db", DATABASE), {}).up_to_date

    db = target(namespace, "db", DATABASE)
    sync(adapter, db)
    bundle.write_text("-----BEGIN CERTIFICATE-----\nsecond\n-----END CERTIFICATE-----\n")
    assert adapter.observe(db, {}).diff == (f"data.{CA_KEY}",)
    sync(adapter, db)
    found = kube.get_config_map(namespace, CA_CONFIG_MAP)
    assert found is not None
    assert found["data"][CA_KEY].count("second") == 1


def test_a_config_map_of_that_name_made_by_someone_else_is_refused(kube: Kube, namespace: str, bundle: Path) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": CA_CONFIG_MAP}, "data": {"ca.pem": "x"}}
    kube.create_config_map(namespace, body)
    with pytest.raises(TerminalError, match="not the operator's"):
        CaConfigMapAdapter(kube, str(bundle)).observe(target(namespace, "db", DATABASE), {})
    found = kube.get_config_map(namespace, CA_CONFIG_MAP)
    assert found is not None
    assert found["data"] == {"ca.pem": "x"}
