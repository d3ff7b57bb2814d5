"""The Kubernetes Secret façade and the sync adapter's key ownership, against the emulated API over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from upskill_operator.adapters.secret.kube_secret import KEY_OWNERS, KubeSecretSyncAdapter, key_owners
from upskill_operator.adapters.secret.values import CURRENT_KEY, Current
from upskill_operator.kube.client import Kube, load_configuration
from upskill_operator.kube.secrets import KubeConflictError, KubeSecrets
from upskill_operator.models.secret import SecretSpec
from upskill_operator.reconcile.protocol import Target
from upskill_sandbox.kube import KubeServer

NS = "default"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    with KubeServer() as server:
        config = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
        client = Kube(load_configuration(str(Path(config))))
        try:
            yield client
        finally:
            client.close()


def values(found: object) -> dict[str, str]:
    return {k: v.get_secret_value() for k, v in getattr(found, "data", {}).items()}


def test_patches_touch_only_their_keys_and_refuse_a_stale_read(kube: Kube) -> None:
    secrets = KubeSecrets(kube)
    secrets.create(NS, "app", {"MINE": SecretStr("1"), "THEIRS": SecretStr("x")}, annotations={}, labels={})
    first = secrets.get(NS, "app")
    assert first is not None
    secrets.patch(NS, "app", resource_version=first.resource_version, data={"MINE": SecretStr("2")}, annotations={})
    assert values(secrets.get(NS, "app")) == {"MINE": "2", "THEIRS": "x"}
    with pytest.raises(KubeConflictError):  # written since `first` was read
        secrets.patch(NS, "app", resource_version=first.resource_version, data={"MINE": None}, annotations={})
    with pytest.raises(KubeConflictError):
        secrets.delete(NS, "app", resource_version=first.resource_version)
    assert values(secrets.get(NS, "app")) == {"MINE": "2", "THEIRS": "x"}
    with pytest.raises(KubeConflictError):  # created meanwhile by someone else
        secrets.create(NS, "app", {"A": SecretStr("a")}, annotations={}, labels={})


def target(name: str, key: str, uid: str = "u") -> Target:
    spec = SecretSpec.model_validate({"source": {"generate": {}}, "target": {"secretName": "shared", "key": key}})
    return Target("UpskillSecret", NS, name, uid, 1, spec)


def test_two_resources_share_a_secret_and_each_removes_only_its_own_key(kube: Kube) -> None:
    secrets = KubeSecrets(kube)
    secrets.create(NS, "shared", {"HUMAN": SecretStr("typed by a person")}, annotations={}, labels={})
    adapter = KubeSecretSyncAdapter(secrets)
    one, two = target("one", "ONE"), target("two", "TWO")
    for t, value in ((one, "1"), (two, "2")):
        outputs = {CURRENT_KEY: Current(f"v-{value}", SecretStr(value), None)}
        observed = adapter.observe(t, outputs)
        assert not observed.exists
        adapter.create(t, outputs)
        assert adapter.observe(t, outputs).up_to_date
    found = secrets.get(NS, "shared")
    assert values(found) == {"HUMAN": "typed by a person", "ONE": "1", "TWO": "2"}
    assert key_owners(found) == {"ONE": "default/one", "TWO": "default/two"}

    deleting = Target("UpskillSecret", NS, "one", "u", 1, one.spec, deleting=True)
    adapter.delete(deleting, {}, adapter.observe(deleting, {}), "Delete")
    found = secrets.get(NS, "shared")
    assert values(found) == {"HUMAN": "typed by a person", "TWO": "2"}
    assert found is not None
    assert KEY_OWNERS in found.annotations
    assert key_owners(found) == {"TWO": "default/two"}
    assert not adapter.observe(deleting, {}).exists


def test_a_secret_the_operator_created_goes_with_its_last_key(kube: Kube) -> None:
    adapter = KubeSecretSyncAdapter(KubeSecrets(kube))
    spec = SecretSpec.model_validate({"source": {"generate": {}}, "target": {"secretName": "solo", "key": "K"}})
    t = Target("UpskillSecret", NS, "solo", "u", 1, spec)
    outputs = {CURRENT_KEY: Current("v1", SecretStr("value"), None)}
    adapter.create(t, outputs)
    assert KubeSecrets(kube).get(NS, "solo") is not None
    deleting = Target("UpskillSecret", NS, "solo", "u", 1, spec, deleting=True)
    adapter.delete(deleting, {}, adapter.observe(deleting, {}), "Delete")
    assert KubeSecrets(kube).get(NS, "solo") is None
