"""The metrics and webhook listen addresses are settings, and the servers bind what they say."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from upskill_operator.config import Settings
from upskill_operator.handlers.admission import server
from upskill_operator.handlers.lifecycle import serve_metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_addresses_default_to_every_interface_and_come_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.metrics_address, default.webhook_address) == ("0.0.0.0", "0.0.0.0")
    env = {"UPSKILL_METRICS_ADDRESS": "127.0.0.1", "UPSKILL_WEBHOOK_ADDRESS": "::", "UPSKILL_WEBHOOK_PORT": "9443"}
    settings = Settings.from_env(env)
    assert (settings.metrics_address, settings.webhook_address) == ("127.0.0.1", "::")
    webhook = server(settings)
    assert webhook is not None
    assert (webhook.addr, webhook.port) == ("::", 9443)


@pytest.mark.parametrize("bad", ["localhost", "0.0.0.0:9090", "256.1.1.1", " "])
def test_an_address_that_is_not_an_ip_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ValueError, match=r"metrics_address[\s\S]*must be an IPv4 or IPv6 address"):
        Settings.from_env({"UPSKILL_METRICS_ADDRESS": bad})


def test_the_metrics_server_listens_on_the_configured_address_only() -> None:
    port = _free_port()
    metrics = serve_metrics(Settings(metrics_port=port, metrics_address="127.0.0.2"))
    assert metrics is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.2:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        metrics.shutdown()
        metrics.server_close()
    assert serve_metrics(Settings(metrics_port=0)) is None
