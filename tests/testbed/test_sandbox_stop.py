"""``upskill-sandbox`` stops everything it started on SIGTERM: servers, listeners, folders."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the bed starts its own servers")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_servers_closes_the_ports_and_exits_0(tmp_path: Path) -> None:
    ports = {name: _free_port() for name in ("--kube-port", "--aws-port", "--metrics-port")}
    args = [sys.executable, "-m", "upskill_sandbox", "--workdir", str(tmp_path / "box")]
    args += [str(v) for pair in ports.items() for v in pair]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:  # ends when the process closes its output
        lines.append(line)
        if "PostgreSQL" in line:
            break
    found = re.search(r"primary (/tmp/upg-[^/\s]+)/s:", "".join(lines))
    assert found, "".join(lines)
    base = found.group(1)
    children = [p for p in psutil.process_iter(["cmdline"]) if base in " ".join(p.info["cmdline"] or [])]
    assert children, "no postgres process runs from the bed's folder"
    assert all(_listening(port) for port in ports.values())

    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, "".join(lines) + rest
    assert "stopping the sandbox" in rest
    survivors = [p for p in psutil.process_iter(["cmdline"]) if base in " ".join(p.info["cmdline"] or [])]
    assert survivors == []
    assert not Path(base).exists()
    assert [port for port in ports.values() if _listening(port)] == []
