"""A kubeconfig context as kubectl picks it: ``--context``, else the current one, with its namespace."""

from __future__ import annotations

from kubernetes import client as k8s
from kubernetes import config as k8s_config

__all__ = ["load_context"]


def load_context(kubeconfig: str, context: str | None) -> tuple[k8s.Configuration, str]:
    """The client configuration of ``context`` and its namespace (``default`` when it names none).

    Raises ``kubernetes.config.ConfigException`` (or OSError) when the file or the context is unusable.
    """
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    contexts, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
    chosen = next((c for c in contexts if c["name"] == context), active) if context else active
    return configuration, str((chosen.get("context") or {}).get("namespace") or "default")
