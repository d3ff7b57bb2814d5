"""check's reading of the sandbox kubeconfig extension."""

from __future__ import annotations

from pathlib import Path

import yaml

from upskill_operator.aws.session import AwsClients
from upskill_operator.commands.sandbox_context import EXTENSION, sandbox_extension, with_sandbox
from upskill_operator.config import Settings

BED = {"awsEndpointUrl": "http://127.0.0.1:5000", "region": "eu-west-1", "endpointMapFile": "/w/map.json",
       "caBundle": "/w/tls/ca.pem", "accessKeyId": "AKIDBED", "secretAccessKey": "bed-Secret-Never-Shown"}  # fmt: skip


def kubeconfig(tmp_path: Path, current: str = "bed") -> Path:
    contexts = [
        {"name": "other", "context": {"cluster": "c", "extensions": [{"name": EXTENSION, "extension": {"x": 1}}]}},
        {"name": "bed", "context": {"cluster": "c", "extensions": [{"name": EXTENSION, "extension": BED}]}},
    ]
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({"current-context": current, "contexts": contexts}))
    return path


def test_the_current_contexts_extension_sets_aws_the_map_and_the_ca(tmp_path: Path) -> None:
    settings = with_sandbox(Settings(kubeconfig=str(kubeconfig(tmp_path))), environ={})
    assert settings.aws.endpoint_url == BED["awsEndpointUrl"]
    assert settings.aws.region == "eu-west-1"
    assert settings.endpoint_map_file == "/w/map.json"
    assert settings.db_ca_bundle == "/w/tls/ca.pem"
    assert settings.aws.access_key_id == "AKIDBED"
    assert settings.aws.secret_access_key is not None
    assert settings.aws.secret_access_key.get_secret_value() == BED["secretAccessKey"]
    assert BED["secretAccessKey"] not in repr(settings) + str(settings)


def test_aws_clients_sign_with_the_extensions_credentials(tmp_path: Path) -> None:
    settings = with_sandbox(Settings(kubeconfig=str(kubeconfig(tmp_path))), environ={})
    credentials = AwsClients(settings.aws).client("sts")._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("AKIDBED", BED["secretAccessKey"])


def test_aws_variables_win_and_other_contexts_are_ignored(tmp_path: Path) -> None:
    base = Settings(kubeconfig=str(kubeconfig(tmp_path)))
    assert with_sandbox(base, environ={"AWS_ENDPOINT_URL": "http://x"}) == base
    assert sandbox_extension(str(kubeconfig(tmp_path, current="other"))) == {"x": 1}
    assert sandbox_extension(str(tmp_path / "missing")) is None
