"""``upskill-operator connect`` on the sandbox path: the example stack Ready, only KUBECONFIG, an env file out.

The file is read back with Node's own dotenv parser (``util.parseEnv``, what ``node --env-file`` uses) and
given to the real clients of tests/clients; a rotation while connect runs rewrites it.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from upskill_operator.cli import main
from upskill_operator.commands.connect_envfile import HEADER

from e2e.clients_support import require_node, run_node, secret_data
from e2e.conftest import REGION, wait_for
from e2e.connect_support import NAMESPACE, TABLE_CONFIGMAPS, Stack, stack

__all__ = ["stack"]  # the module's fixture

WEB_KEYS = ("AUTH_DB_URL", "BETTER_AUTH_SECRET", "COURSE_DB_URL", "COURSE_DB_READ_URL")


@pytest.fixture
def only_kubeconfig(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A developer's shell: KUBECONFIG and nothing about AWS or the operator. Returns that environment."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "UPSKILL_", "DATABASE_URL", "PG")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KUBECONFIG", str(stack.kubeconfig))
    return {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ} | {"KUBECONFIG": str(stack.kubeconfig)}


def parse_env_file(path: Path) -> dict[str, str]:
    """The file as Node reads it (``util.parseEnv``: the parser behind ``node --env-file``)."""
    require_node()
    script = (
        "const fs = require('fs'); const util = require('util');"
        "console.log(JSON.stringify(util.parseEnv(fs.readFileSync(process.argv[1], 'utf8'))))"
    )
    done = subprocess.run(["node", "-e", script, str(path)], capture_output=True, text=True, check=True, timeout=30)
    parsed: dict[str, str] = json.loads(done.stdout)
    return parsed


def test_connect_once_writes_what_the_apps_get(
    stack: Stack, only_kubeconfig: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env.local"
    code = main(["connect", "-n", NAMESPACE, "--once", "--env-file", str(env_file)])
    out = capsys.readouterr()
    assert code == 0, out
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.read_text().startswith(HEADER)
    written = parse_env_file(env_file)
    delivered = stack.delivered()
    assert {k: written.get(k) for k in delivered} == delivered, "every delivered key, unedited"
    assert set(WEB_KEYS) <= set(written)
    assert written["AWS_REGION"] == REGION
    assert written["AWS_ENDPOINT_URL"] == stack.aws_url
    for key in ("AUTH_DB_URL", "COURSE_DB_URL", "COURSE_DB_READ_URL"):
        assert "sslmode=verify-full" in written[key], key
    for value in delivered.values():
        if len(value) > 8:
            assert value not in out.out + out.err, "connect printed a delivered value"


def test_betterauth_kysely_and_dynamo_connect_with_the_file(
    stack: Stack, only_kubeconfig: dict[str, str], tmp_path: Path
) -> None:
    env_file = tmp_path / ".env.local"
    assert main(["connect", "-n", NAMESPACE, "--once", "--env-file", str(env_file)]) == 0
    env = parse_env_file(env_file)
    assert run_node("betterauth.mjs", env)["migrationsPending"] == 0
    result = run_node("kysely.mjs", env)
    assert result["wrote"] == 5
    assert result["readOnlyWriteSqlstate"] == "25006"
    tables = run_node("dynamo.mjs", env)["tables"]
    assert len(tables) == len(TABLE_CONFIGMAPS)


def test_chosen_resources_only(stack: Stack, only_kubeconfig: dict[str, str], tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    chosen = ["usecret/auth-db-url", "notifications"]
    assert main(["connect", "-n", NAMESPACE, *chosen, "--once", "--env-file", str(env_file)]) == 0
    written = parse_env_file(env_file)
    assert "AUTH_DB_URL" in written
    assert "COURSE_DB_URL" not in written
    assert any(k.endswith("TABLE_NAME") for k in written)
    assert len([k for k in written if k.endswith("TABLE_NAME")]) == 1


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["-n", "nowhere"], 'namespace "nowhere" not found'),
        (["-n", "empty"], "no UpskillSecret or UpskillTable in namespace empty"),
        (["-n", NAMESPACE, "usecret/no-such"], "usecret/no-such: no such UpskillSecret"),
        (["-n", NAMESPACE, "deployment/web"], "connect reads UpskillSecrets"),
    ],
)
def test_missing_things_exit_1_with_the_reason(
    stack: Stack,
    only_kubeconfig: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    reason: str,
) -> None:
    env_file = tmp_path / ".env.local"
    stack.kube.apply_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "empty"}})
    assert main(["connect", *argv, "--once", "--env-file", str(env_file)]) == 1
    assert reason in capsys.readouterr().err
    assert not env_file.exists()


def test_an_unreachable_cluster_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    code = main(["connect", "--kubeconfig", str(kubeconfig), "--env-file", str(tmp_path / "e"), "--timeout", "1"])
    assert code == 1
    assert "cannot reach the Kubernetes API at http://127.0.0.1:9" in capsys.readouterr().err


class Running:
    """``connect`` in its own process (signals, as a developer's terminal sends them), its output collected."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "upskill_operator", *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def test_a_rotation_while_connect_runs_rewrites_the_file(
    stack: Stack, only_kubeconfig: dict[str, str], tmp_path: Path
) -> None:
    """Last in the module: it changes the passwords the other tests used."""
    env_file = tmp_path / ".env.local"
    running = Running(["connect", "-n", NAMESPACE, "--env-file", str(env_file), "--interval", "0.5"], only_kubeconfig)
    try:
        wait_for(lambda: any("watching" in line for line in running.lines), 60, f"connect watching: {running.lines}")
        before = parse_env_file(env_file)
        doc = next(d for d in stack.docs if d["kind"] == "UpskillSecret" and d["metadata"]["name"] == "auth-db-url")
        meta = {**doc["metadata"], "annotations": {"upskill.io/rotate": "now"}}
        stack.kube.apply_manifest({**doc, "metadata": meta})
        wait_for(lambda: parse_env_file(env_file)["AUTH_DB_URL"] != before["AUTH_DB_URL"], 120, "AUTH_DB_URL rewritten")
        wait_for(
            lambda: any("changed keys" in line and "AUTH_DB_URL" in line for line in running.lines),
            30,
            f"a line naming AUTH_DB_URL: {running.lines}",
        )
        after = parse_env_file(env_file)
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert after["AUTH_DB_URL"] == secret_data(stack.kube, NAMESPACE, "web-env")["AUTH_DB_URL"]
        assert run_node("betterauth.mjs", after)["migrationsPending"] == 0
    finally:
        code = running.stop()
    assert code == 0, running.lines
    output = "\n".join(running.lines)
    for value in (before["AUTH_DB_URL"], after["AUTH_DB_URL"], after["BETTER_AUTH_SECRET"]):
        assert value not in output, "connect printed a value"
    assert "Traceback" not in output
