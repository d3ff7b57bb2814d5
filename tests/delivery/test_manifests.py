"""The kustomize manifests: they build, validate against Kubernetes' schemas and ours, and agree with the code.

Built with the real ``kubectl kustomize``; standard kinds are checked with
``kubernetes-validate`` (the OpenAPI schemas it ships, strict: unknown fields fail),
our custom resources with the committed CRDs (structural schema and CEL rules, as
the API server applies them) and the pydantic models. Kinds of other projects' CRDs
(Prometheus Operator, Argo CD, cert-manager) have no schema here: test_monitoring.py,
test_argocd.py and test_webhook.py check those, and the list of them below is closed.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml

from delivery.docker_context import stages
from delivery.kustomize import ROOT, build, find, folders, one
from upskill_operator.config import Settings
from upskill_operator.generate import crds
from upskill_operator.models import KINDS
from upskill_operator.models.validation import validate_spec
from upskill_sandbox.kube_cel import rule_causes
from upskill_sandbox.kube_schema import apply_defaults, make_validator, prune, schema_causes

KUBERNETES_VERSION = "1.32"
OTHER_CRD_KINDS = {("monitoring.coreos.com", "ServiceMonitor"), ("monitoring.coreos.com", "PrometheusRule")}
OTHER_CRD_KINDS |= {("argoproj.io", "Application")}
OTHER_CRD_KINDS |= {("cert-manager.io", "Issuer"), ("cert-manager.io", "Certificate")}
OURS = {info.kind for info in KINDS}
FOLDERS = folders()


def _group(obj: dict[str, Any]) -> str:
    return str(obj["apiVersion"]).rpartition("/")[0]


def _crd_schema(kind: str) -> dict[str, Any]:
    info = next(i for i in KINDS if i.kind == kind)
    crd = yaml.safe_load((ROOT / "crds" / f"upskill.io_{info.plural}.yaml").read_text(encoding="utf-8"))
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def crd_errors(obj: dict[str, Any]) -> list[str]:
    """What the API server would refuse (or silently prune) in one of our custom resources."""
    schema = _crd_schema(obj["kind"])
    body = copy.deepcopy(obj)
    apply_defaults(body, schema, root=True)
    pruned: list[str] = []
    prune(body, schema, [], pruned, root=True)
    causes = schema_causes(make_validator(schema), body) + rule_causes(schema, body, None, has_old=False)
    return [f"{c.field}: {c.message}" for c in causes] + [f"{p}: unknown field (pruned)" for p in pruned]


def test_every_manifest_folder_is_found() -> None:
    wanted = {"crds", "manifests/base", "manifests/monitoring", "manifests/overlays/dev", "manifests/overlays/prod"}
    wanted |= {"manifests/argocd", "manifests/argocd/health", "manifests/examples/upskill-stack"}
    assert wanted <= set(FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_built_object_validates(folder: str) -> None:
    objects = build(folder)
    assert objects, f"{folder} renders nothing"
    for obj in objects:
        where = f"{folder}: {obj['kind']}/{obj['metadata'].get('name')}"
        if obj["kind"] in OURS and _group(obj) == "upskill.io":
            assert crd_errors(obj) == [], where
            assert validate_spec(obj["kind"], obj.get("spec") or {}) == [], where
        elif (_group(obj), obj["kind"]) in OTHER_CRD_KINDS:
            assert obj["metadata"].get("name"), where
        else:
            try:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")


def test_the_crd_check_itself_catches_bad_resources() -> None:
    table = next(o for o in build("manifests/examples/upskill-stack") if o["kind"] == "UpskillTable")
    bad = copy.deepcopy(table)
    bad["spec"]["keys"]["partition"]["type"] = "X"
    bad["spec"]["unknownField"] = 1
    errors = crd_errors(bad)
    assert any("keys.partition.type" in e for e in errors)
    assert any("unknownField" in e for e in errors)


def test_crds_kustomization_lists_exactly_the_generated_crds() -> None:
    listed = yaml.safe_load((ROOT / "crds" / "Kustomization").read_text(encoding="utf-8"))["resources"]
    assert sorted(listed) == sorted(crds.render_all()), "crds/Kustomization must list every generated CRD"


def test_base_installs_the_committed_crds_unchanged() -> None:
    built = {o["metadata"]["name"]: o for o in find(build("manifests/base"), "CustomResourceDefinition")}
    assert set(built) == {info.crd_name for info in KINDS}
    for name, text in crds.render_all().items():
        generated = yaml.safe_load(text)
        rendered = copy.deepcopy(built[generated["metadata"]["name"]])
        rendered["metadata"] = {"name": rendered["metadata"]["name"]}
        assert rendered == generated, f"{name}: base renders a different CRD than crds/"


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = one(objects, "Deployment", "upskill-operator")["spec"]["template"]["spec"]
    container: dict[str, Any] = next(c for c in pod["containers"] if c["name"] == "operator")
    return container


def _ports(container: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container["ports"]}


@pytest.mark.parametrize("folder", ["manifests/base", "manifests/overlays/dev", "manifests/overlays/prod"])
def test_the_deployment_is_locked_down(folder: str) -> None:
    objects = build(folder)
    deployment = one(objects, "Deployment", "upskill-operator")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    container = _container(objects)
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert "add" not in security["capabilities"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    final = stages()[-1]
    uid = int(final.all("USER")[-1].value.split(":")[0])
    assert pod["securityContext"]["runAsUser"] == uid == security["runAsUser"], "the image's USER"
    assert container["image"].startswith("ghcr.io/"), "the image is set by kustomize"
    assert ":" in container["image"]


@pytest.mark.parametrize("folder", ["manifests/base", "manifests/overlays/dev", "manifests/overlays/prod"])
def test_probes_ports_and_settings_match_the_code(folder: str) -> None:
    objects = build(folder)
    container = _container(objects)
    ports = _ports(container)
    entry = stages()[-1].all("ENTRYPOINT")[-1].exec_form() or []
    liveness = urlparse(entry[entry.index("--liveness") + 1])
    assert ports["healthz"] == liveness.port
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": liveness.path, "port": "healthz"}, probe
    env = {e["name"]: e["value"] for e in container["env"]}
    settings = Settings.from_env(env)
    assert ports["metrics"] == settings.metrics_port == Settings().metrics_port
    assert ports["webhook"] == 9443, "reserved for the admission webhook"
    for name, value in env.items():
        if name.startswith("UPSKILL_"):
            field = name.removeprefix("UPSKILL_").lower()
            if field == "aws_max_attempts":
                assert settings.aws.max_attempts == int(value)
                continue
            assert field in Settings.model_fields, f"{name} is no setting"
            parsed = getattr(settings, field)
            expected = tuple(value.split(",")) if isinstance(parsed, tuple) else type(parsed)(value)
            assert parsed == expected, f"{name}={value} is not read by Settings.from_env"
    service = one(objects, "Service", "upskill-operator")
    assert service["spec"]["selector"].items() <= container_labels(objects).items()
    assert {"name": "metrics", "port": settings.metrics_port, "targetPort": "metrics", "protocol": "TCP"} in service[
        "spec"
    ]["ports"]


def container_labels(objects: list[dict[str, Any]]) -> dict[str, str]:
    labels: dict[str, str] = one(objects, "Deployment", "upskill-operator")["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("folder", ["manifests/base", "manifests/overlays/dev", "manifests/overlays/prod"])
def test_the_service_account_has_an_irsa_role_and_the_binding(folder: str) -> None:
    objects = build(folder)
    account = one(objects, "ServiceAccount", "upskill-operator")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    pod = one(objects, "Deployment", "upskill-operator")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    bindings = [*find(objects, "ClusterRoleBinding"), *find(objects, "RoleBinding")]  # either RBAC mode
    assert bindings
    for binding in bindings:
        assert binding["subjects"] == [
            {
                "kind": "ServiceAccount",
                "name": account["metadata"]["name"],
                "namespace": account["metadata"]["namespace"],
            }
        ]
        assert one(objects, binding["roleRef"]["kind"], binding["roleRef"]["name"])


def test_the_overlays_differ_from_base_where_they_should() -> None:
    base, dev, prod = (build(f) for f in ("manifests/base", "manifests/overlays/dev", "manifests/overlays/prod"))
    images = {_container(objs)["image"] for objs in (base, dev, prod)}
    assert len(images) >= 2
    assert {o["kind"] for o in prod} >= {"ServiceMonitor", "PrometheusRule"}, "prod includes monitoring"
    assert any(o["kind"] == "ConfigMap" and o["metadata"]["labels"].get("grafana_dashboard") == "1" for o in prod)
    roles = {
        one(objs, "ServiceAccount")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] for objs in (base, prod)
    }
    assert len(roles) == 2, "prod sets its own IRSA role"


def test_argo_sync_waves_put_crds_and_the_operator_first() -> None:
    def wave(obj: dict[str, Any]) -> int:
        return int((obj["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0"))

    objects = build("manifests/overlays/prod")
    crd_waves = {wave(o) for o in find(objects, "CustomResourceDefinition")}
    assert max(crd_waves) < wave(one(objects, "Deployment", "upskill-operator"))
    assert wave(one(objects, "Namespace")) <= min(crd_waves)
    assert wave(one(objects, "ClusterRole")) < wave(one(objects, "Deployment"))
