"""Every Kubernetes API call is bounded: a server that accepts and never answers fails the call, it never hangs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import urllib3
from kubernetes import client as k8s

from upskill_operator.kube import client
from upskill_operator.kube.client import Kube


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never writes a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()


def _outcome(call: object, seconds: float) -> tuple[bool, BaseException | None]:
    """(still running after ``seconds``, what the call raised)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            raised.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    return worker.is_alive(), (raised[0] if raised else None)


def _kube(url: str) -> Kube:
    configuration = k8s.Configuration()
    configuration.host = url
    configuration.retries = 0
    return Kube(configuration)


def test_a_call_without_a_timeout_of_its_own_ends(silent_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "REQUEST_TIMEOUT", 0.3)
    kube = _kube(silent_server)
    try:
        running, raised = _outcome(lambda: kube.get_config_map("ns", "name"), 10)
        assert not running, "the call was still waiting for an answer after 10 s"
        assert isinstance(raised, urllib3.exceptions.HTTPError), raised
        running, raised = _outcome(
            lambda: kube.custom.get_namespaced_custom_object("upskill.io", "v1alpha1", "ns", "x", "y"), 10
        )
        assert not running, "the custom-object call was still waiting after 10 s"
        assert isinstance(raised, urllib3.exceptions.HTTPError), raised
    finally:
        kube.close()


def test_a_callers_own_timeout_wins(silent_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "REQUEST_TIMEOUT", 0.2)
    kube = _kube(silent_server)
    try:
        running, _ = _outcome(lambda: kube.core.read_namespaced_config_map("n", "ns", _request_timeout=5), 2)
        assert running, "the caller's 5 s timeout was replaced by the default"
    finally:
        kube.close()
