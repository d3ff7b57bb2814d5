"""The sandbox's kubeconfig extension ``upskill.io/sandbox``: how ``check`` reaches the bed with only KUBECONFIG.

The sandbox writes, on its current context, ``{awsEndpointUrl, region, accessKeyId, secretAccessKey,
endpointMapFile, caBundle}``; the credentials become ``AwsSettings.access_key_id``/``secret_access_key``.
Read only when no AWS variable is set: a user's own AWS settings win.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from upskill_operator.config import Settings

__all__ = ["EXTENSION", "sandbox_extension", "with_sandbox"]

EXTENSION = "upskill.io/sandbox"
AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION")


def sandbox_extension(kubeconfig: str | None, context: str | None = None) -> dict[str, Any] | None:
    """The extension on the kubeconfig's ``context`` (default: the current one); None when there is none."""
    path = Path(kubeconfig or os.environ.get("KUBECONFIG") or Path.home() / ".kube" / "config")
    if not path.is_file():
        return None
    loaded = yaml.safe_load(path.read_text()) or {}
    current = context or loaded.get("current-context")
    for entry in loaded.get("contexts") or ():
        if entry.get("name") == current:
            for extension in (entry.get("context") or {}).get("extensions") or ():
                if extension.get("name") == EXTENSION and isinstance(extension.get("extension"), dict):
                    return dict(extension["extension"])
    return None


def with_sandbox(settings: Settings, environ: Mapping[str, str] | None = None) -> Settings:
    """``settings`` with the bed's AWS endpoint, region, endpoint map file and CA when no AWS variable is set."""
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in AWS_VARIABLES):
        return settings
    found = sandbox_extension(settings.kubeconfig)
    if not found:
        return settings
    aws_updates: dict[str, Any] = {
        "endpoint_url": found.get("awsEndpointUrl"),
        "region": found.get("region") or settings.aws.region,
    }
    if found.get("accessKeyId") and found.get("secretAccessKey"):
        aws_updates["access_key_id"] = str(found["accessKeyId"])
        aws_updates["secret_access_key"] = SecretStr(str(found["secretAccessKey"]))
    aws = settings.aws.model_copy(update=aws_updates)
    updates: dict[str, Any] = {"aws": aws}
    if found.get("endpointMapFile"):
        updates["endpoint_map_file"] = str(found["endpointMapFile"])
    if found.get("caBundle"):
        updates["db_ca_bundle"] = str(found["caBundle"])
    return settings.model_copy(update=updates)
