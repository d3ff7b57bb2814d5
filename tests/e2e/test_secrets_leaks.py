"""The leak scan: a whole UpskillSecret lifecycle with every logger at DEBUG, then a search for every value.

Every value the lifecycle produced (generated, imported, database passwords, URLs, JSON
documents, rotated values), in plain, base64 and percent-encoded form, is searched for in every
log record of the process (the emulators' own loggers aside), every Kubernetes Event, every
UpskillSecret object (status, annotations, everything) and every metric label. None may appear.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from e2e.conftest import NAMESPACE, Bed, wait_for
from e2e.secret_support import (
    PLURAL,
    Capture,
    apply_database,
    aws_name,
    aws_value,
    database_status,
    debug_logs,
    deployment,
    everything_visible,
    forms,
    kube_value,
    master_secret,
    put_kube_secret,
    ready,
    secret_doc,
    secrets_operator,
    unique,
    waiting,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def capture() -> Iterator[Capture]:
    with debug_logs() as handler:
        yield handler


def test_no_value_ever_leaves_secrets_manager_and_the_target_secret(
    bed: Bed, capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    values: list[str] = []
    gen, imp, url, db, env, src, web = (unique(p) for p in ("gen", "imp", "url", "db", "env", "src", "web"))
    with secrets_operator(bed, monkeypatch, resync_seconds=3.0):  # DEBUG everywhere: keep the volume sane
        deployment(bed, web, env, "TOKEN")
        imported = f"sk_live_{uuid.uuid4().hex}"
        values.append(imported)
        put_kube_secret(bed, src, {"value": imported})
        password = f"pw/{uuid.uuid4().hex[:12]}@:"
        values.append(password)
        sm = bed.boto("secretsmanager")
        master = master_secret(bed, "admin", password)
        gen_doc = secret_doc(
            gen,
            {"generate": {"length": 40}},
            rotation={"everyDays": 30},
            target={"secretName": env, "key": "TOKEN", "restartOnChange": [{"kind": "Deployment", "name": web}]},
        )
        bed.apply(gen_doc)
        bed.apply(
            secret_doc(imp, {"fromSecret": {"name": src, "key": "value"}}, target={"secretName": env, "key": "IMP"})
        )
        bed.apply(
            secret_doc(
                url,
                {"database": {"ref": db, "format": "json"}},
                target={
                    "secretName": env,
                    "keys": [{"key": "DB_URL", "field": "url"}, {"key": "DB_PASSWORD", "field": "password"}],
                },
            )
        )
        waiting(bed, url, "does not exist")
        leak_host = {"proxy": "leak.proxy-x.us-east-1.rds.amazonaws.com"}
        apply_database(bed, db, {**database_status(master), "endpoints": leak_host})
        for name in (gen, imp, url):
            ready(bed, name)
        values += [aws_value(bed, gen), aws_value(bed, url), str(kube_value(bed, env, "DB_URL"))]

        bed.apply({**gen_doc, "metadata": {**gen_doc["metadata"], "annotations": {"upskill.io/rotate": "now"}}})
        wait_for(lambda: bed.get(PLURAL, gen)["status"].get("rotationRequest") == "now", 20, "rotated")
        values.append(aws_value(bed, gen))
        changed = f"oob-{uuid.uuid4().hex}"
        values.append(changed)
        sm.put_secret_value(SecretId=aws_name(gen), SecretString=changed)
        wait_for(lambda: kube_value(bed, env, "TOKEN") == changed, 20, "out-of-band change synced")
        for name in (gen, imp, url):
            bed.delete(PLURAL, name)
        for name in (gen, imp, url):
            wait_for(lambda name=name: bed.get(PLURAL, name) is None, 20, f"{name} deleted")

    assert any(line.startswith("kopf") for line in capture.lines), "DEBUG capture is not working"
    posted = {"Created", "Ready", "SecretRotated", "RolloutRestarted"}
    wait_for(
        lambda: posted <= {e["reason"] for e in bed.kube.list("v1", "events", NAMESPACE)}, 20, "the Events to scan"
    )
    visible = everything_visible(bed, capture)
    for value in values:
        for form in forms(value):
            for where, text in visible.items():
                assert form not in text, f"a secret value leaked into {where}"
