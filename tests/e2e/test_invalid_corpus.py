"""Every invalid resource of tests/data/invalid is refused, and none of them changes anything in AWS.

Three gates are driven over HTTP, each with every case:

1. **The API server** (our Kubernetes emulator, with the real CRDs: OpenAPI schema and CEL rules),
   written to as kubectl writes (``fieldValidation=Strict``) and with ``dryRun=All``.
2. **The webhook**: kopf's webhook server of the real operator, sent AdmissionReview requests.
3. **The operator without a webhook and without CRD validation**: the same objects in a second
   emulator whose CRDs have no schema at all (``x-kubernetes-preserve-unknown-fields``), so whatever
   the file says reaches the operator, which must set Terminal with the same message. Immutable
   changes are applied to objects first made Ready (the AWS objects exist); the operator has no old
   spec to compare with, so it finds those by comparing with AWS. Cases marked ``operator`` name
   AWS objects owned by another namespace's resource, seeded here in moto.

Mutating AWS calls are counted at the botocore layer (every HTTP attempt) from the moment the invalid
objects are applied, through their first passes and at least as many resync passes again (every kind
resyncs every few seconds here), until the corpus is deleted; "mutating" is any operation a façade
declares that is not Describe/List/Get (see :func:`e2e.conftest.is_mutating`). Counts per category
and kind are printed at the end of the module.
"""

from __future__ import annotations

import copy
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from upskill_operator.generate import crds, kubectl_yaml
from upskill_operator.models.validation import validate_spec
from upskill_sandbox.kube import KubeServer
from upskill_sandbox.operator_thread import OperatorThread

from e2e.conftest import API, Bed, CallLog, condition, is_mutating, is_ready, wait_for
from e2e.corpus_support import CATEGORIES, KINDS, Case, Seeds, http, load_cases, summary

pytestmark = pytest.mark.e2e

NS = "corpus"
IDLE_NS = "corpus-webhook-only"  # the webhook's operator watches only this (empty) namespace
CASES = load_cases()
IDS = [case.id for case in CASES]


@pytest.fixture(scope="module", autouse=True)
def _print_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(f"invalid corpus: {len(CASES)} cases (tests/data/invalid)")
        for line in summary(CASES):
            reporter.write_line("  " + line)


def _crds(schemaless: bool) -> list[dict[str, Any]]:
    docs = [kubectl_yaml.load(text) for text in crds.render_all().values()]
    for crd in docs if schemaless else ():
        for version in crd["spec"]["versions"]:
            version["schema"] = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return docs


def _kube(schemaless: bool, namespaces: tuple[str, ...]) -> KubeServer:
    kube = KubeServer().start()
    for crd in _crds(schemaless):
        kube.apply_manifest(crd)
    for namespace in namespaces:
        kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return kube


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(doc)
    body["metadata"]["namespace"] = NS
    return body


def _collection(kube: KubeServer, case: Case) -> str:
    return f"{kube.url}/apis/{API}/namespaces/{NS}/{case.plural}"


@pytest.fixture(scope="module")
def api_server() -> Iterator[KubeServer]:
    """The emulator with the real CRDs; no operator ever reconciles what is stored here."""
    kube = _kube(schemaless=False, namespaces=(NS, IDLE_NS))
    yield kube
    kube.stop()


@pytest.fixture(scope="module")
def webhook(bed: Bed, api_server: KubeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    kubeconfig = api_server.write_kubeconfig(tmp_path_factory.mktemp("webhook") / "kubeconfig")
    update = {"kubeconfig": str(kubeconfig), "webhook_port": port, "webhook_insecure": True, "namespaces": (IDLE_NS,)}
    with OperatorThread(bed.settings.model_copy(update=update), bed.hooks):
        wait_for(lambda: _listening(port), 10, "webhook server")
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_api_server_refuses_with_the_field_or_lets_the_webhook_decide(api_server: KubeServer, case: Case) -> None:
    collection, query = _collection(api_server, case), "?dryRun=All&fieldValidation=Strict"
    if case.old is not None:
        status, created = http(collection, "POST", _body(case.old))
        assert status < 300, created
        new = _body(case.doc)
        new["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
        status, answer = http(f"{collection}/{case.name}{query}", "PUT", new)
    else:
        status, answer = http(collection + query, "POST", _body(case.doc))
    if case.refused_by in ("schema", "cel"):
        assert status in (400, 422), f"the CRD should refuse {case.id}: {answer}"
        assert case.field in answer["message"]
        if case.refused_by == "cel":
            assert case.rule in answer["message"]
    else:
        assert status < 300, f"the CRD should leave {case.id} to the {case.refused_by}: {answer.get('message')}"


def _review(url: str, case: Case) -> dict[str, Any]:
    """POST one AdmissionReview, as the API server would, and return its response part."""
    gvk = {"group": "upskill.io", "version": "v1alpha1", "kind": case.kind}
    gvr = {"group": "upskill.io", "version": "v1alpha1", "resource": case.plural}
    request = {
        "uid": str(uuid.uuid4()),
        "kind": gvk,
        "resource": gvr,
        "requestKind": gvk,
        "requestResource": gvr,
        "name": case.name,
        "namespace": NS,
        "operation": "UPDATE" if case.old is not None else "CREATE",
        "userInfo": {"username": "alice"},
        "object": _body(case.doc),
        "oldObject": _body(case.old) if case.old is not None else None,
        "dryRun": False,
        "options": {},
    }
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    status, answer = http(f"{url}/validate-{case.plural}", "POST", body)
    assert status == 200, answer
    assert answer["response"]["uid"] == request["uid"]
    return dict(answer["response"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_webhook_refuses_with_the_expected_message(webhook: str, case: Case) -> None:
    answer = _review(webhook, case)
    if case.refused_by == "operator":
        assert answer["allowed"] is True, "only the operator can see this; the webhook must not guess"
        return
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 422
    assert case.expect in answer["status"]["message"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_one_problem_per_case(case: Case) -> None:
    """Each file is wrong in one way only, so its expected message is the whole verdict."""
    lines = validate_spec(case.kind, case.spec(), case.old_spec())
    if case.refused_by == "operator":
        assert lines == []
    else:
        assert len(lines) == 1, lines
        assert case.expect in lines[0]
    if case.old is not None:
        assert validate_spec(case.kind, case.old_spec()) == []


def test_corpus_covers_every_category_and_kind() -> None:
    assert len(CASES) >= 160
    covered = {(case.category, case.kind) for case in CASES}
    assert covered == {(category, kind) for category in CATEGORIES for kind in KINDS}
    assert {case.category for case in CASES if case.old is not None} == {"immutable"}


def _get(kube: KubeServer, case: Case) -> dict[str, Any] | None:
    return kube.get(API, case.plural, NS, case.name)


def _terminal_now(obj: dict[str, Any] | None) -> bool:
    """Terminal for the object's current generation (after a change, not the Ready of the one before)."""
    if obj is None:
        return False
    cond = condition(obj, "Terminal")
    return cond.get("status") == "True" and cond.get("observedGeneration") == obj["metadata"]["generation"]


def _put(kube: KubeServer, case: Case, doc: dict[str, Any]) -> None:
    """Replace the stored object's spec with ``doc``'s, as ``kubectl replace`` does (again on a 409: the
    operator writes status at the same time)."""
    for _ in range(20):
        body = _body(doc)
        body["metadata"]["resourceVersion"] = (_get(kube, case) or {})["metadata"]["resourceVersion"]
        status, answer = http(f"{_collection(kube, case)}/{case.name}", "PUT", body)
        if status != 409:
            break
    assert status < 300, f"{case.id}: {answer}"


def _apply(kube: KubeServer, case: Case) -> None:
    if case.old is not None:
        _put(kube, case, case.doc)
        return
    status, answer = http(_collection(kube, case), "POST", _body(case.doc))
    assert status < 300, f"{case.id}: {answer}"


FOREIGN_OWNERS = ["other/orders", "other/api-key", "other/auth-db"]


def _settle(kube: KubeServer, cases: list[Case], done: Callable[[dict[str, Any] | None], bool], what: str) -> None:
    """Wait until ``done`` holds for every case's object; on a timeout, say which did not and why."""

    def left() -> list[Case]:
        return [case for case in cases if not done(_get(kube, case))]

    try:
        wait_for(lambda: not left(), 60, what)
    except AssertionError:
        states = {case.id: ((_get(kube, case) or {}).get("status") or {}).get("message") for case in left()}
        raise AssertionError(f"timed out waiting for {what}: {states}") from None


def _terminal_passes() -> Counter[str]:
    """Passes that ended Terminal so far, per kind (the operator's own metric)."""
    sample = REGISTRY.get_sample_value
    return Counter(
        {kind: int(sample("upskill_reconcile_total", {"kind": kind, "result": "terminal"}) or 0) for kind in KINDS}
    )


@dataclass
class Run:
    kube: KubeServer
    seeds: Seeds
    objects: dict[str, dict[str, Any]]
    log: CallLog
    calls: list[tuple[str, str]] | None = None
    """The calls made while the corpus stood, frozen when its deletion starts."""

    def mutating(self) -> list[tuple[str, str]]:
        return [call for call in self.calls or list(self.log.calls) if is_mutating(call[1])]

    def delete_all(self) -> None:
        """Put the changed objects back (so their AWS objects match again), then delete every object."""
        if self.calls is None:
            self.calls = list(self.log.calls)
        pairs = [case for case in CASES if case.old is not None and _get(self.kube, case)]
        for case in pairs:
            _put(self.kube, case, case.old or {})
        _settle(self.kube, pairs, is_ready, "the changed objects back to Ready")
        for case in CASES:
            http(f"{_collection(self.kube, case)}/{case.name}", "DELETE")
        _settle(self.kube, CASES, lambda obj: obj is None, "every object deleted")


@pytest.fixture(scope="module")
def run(bed: Bed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The whole corpus through the operator, no webhook, no CRD validation; calls counted from the change on."""
    kube = _kube(schemaless=True, namespaces=(NS,))
    kubeconfig: Path = kube.write_kubeconfig(tmp_path_factory.mktemp("corpus") / "kubeconfig")
    aws = bed.settings.aws.model_copy(update={"calls_per_second": {}})
    update = {"kubeconfig": str(kubeconfig), "aws": aws, "kind_resync_seconds": {}}  # every kind at the bed's 3 s
    settings = bed.settings.model_copy(update=update)
    calls, pairs, seeds = CallLog(), [case for case in CASES if case.old is not None], Seeds(bed).create()
    bed.hooks.attempts.append(calls)
    try:
        with OperatorThread(settings, bed.hooks):
            for case in pairs:
                http(_collection(kube, case), "POST", _body(case.old or {}))
            _settle(kube, pairs, is_ready, "the objects to change Ready")
            calls.clear()
            for case in CASES:
                _apply(kube, case)
            _settle(kube, CASES, _terminal_now, "every case Terminal")
            before, cases = _terminal_passes(), Counter(case.kind for case in CASES)
            more = lambda: _terminal_passes() - before  # noqa: E731
            wait_for(lambda: all(more()[kind] >= cases[kind] for kind in KINDS), 30, "as many resync passes again")
            run = Run(kube, seeds, {case.id: _get(kube, case) or {} for case in CASES}, calls)
            yield run
            run.delete_all()
    finally:
        bed.hooks.attempts.remove(calls)
        seeds.remove()
        kube.stop()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_operator_without_webhook_sets_terminal_and_changes_nothing(run: Run, case: Case) -> None:
    obj = run.objects[case.id]
    terminal = condition(obj, "Terminal")
    assert terminal.get("status") == "True", obj.get("status")
    assert case.expect in terminal["message"]
    assert obj["status"]["phase"] == "Failed"
    assert run.mutating() == [], "the invalid corpus must not change AWS"


def test_deleting_the_corpus_spares_other_namespaces_objects(run: Run) -> None:
    assert run.seeds.foreign_owners() == FOREIGN_OWNERS
    run.delete_all()
    assert run.seeds.foreign_owners() == FOREIGN_OWNERS
