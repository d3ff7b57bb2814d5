"""The bed's database data plane in one context manager: TLS files, servers, backer, fronts.

``DataPlane(workdir)`` makes the CA and server certificate, starts the primary and its streaming
standby (:mod:`.pg_server`), the :class:`~.rds_backer.ClusterBacker` (logged in as the bed
superuser) and the fronts (:mod:`.pg_front`, one TLS listener per emulated RDS endpoint, which
keep ``endpoint_map_file`` current). :meth:`settings_overrides` is what ``Settings`` needs to
reach them. :meth:`stop` is idempotent and safe from a signal handler.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from upskill_sandbox.dataplane_types import Backends, TlsFiles
from upskill_sandbox.pg_front import Fronts
from upskill_sandbox.pg_server import bed_servers
from upskill_sandbox.rds_backer import ClusterBacker
from upskill_sandbox.tls import make_tls_files

__all__ = ["SIGNING_KEYS", "DataPlane"]

SIGNING_KEYS = {"testing": "testing"}
"""Access key id -> secret key whose IAM auth tokens the fronts accept (the sandbox's credentials)."""


class DataPlane:
    """Start with ``with DataPlane(workdir) as plane:``; everything stops, and temp folders go, on exit."""

    def __init__(self, workdir: Path, *, standby: bool = True, signing_keys: dict[str, str] | None = None) -> None:
        """``signing_keys``: access key id -> secret key whose IAM auth tokens the fronts accept (the sandbox's)."""
        self.workdir = Path(workdir).resolve()
        self.standby = standby
        self.map_file = self.workdir / "endpoints.json"
        self.signing_keys = dict(SIGNING_KEYS if signing_keys is None else signing_keys)
        self._servers: Any = None
        self._fronts: Fronts | None = None
        self.backer: ClusterBacker | None = None
        self.backends: Backends | None = None
        self.tls: TlsFiles | None = None
        self._tls_dir: Path | None = None

    def __enter__(self) -> DataPlane:
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.tls = make_tls_files(self.workdir)
            self._servers = bed_servers(standby=self.standby)
            self.backends, _ = self._servers.__enter__()
            self.backer = ClusterBacker(self.backends.admin_conninfo()).start()
            self._fronts = Fronts(self.backends, self.tls, self.map_file, self.signing_keys)
            self._fronts.__enter__()
        except BaseException:
            self.stop()
            raise
        return self

    def settings_overrides(self) -> dict[str, Any]:
        """``Settings(...)`` fields that send the operator to the fronts and make it verify their CA."""
        assert self.tls is not None
        ca = str(self.tls.ca.resolve())
        return {"endpoint_map_file": str(self.map_file), "db_ca_bundle": ca, "app_ca_path": ca}

    def stop(self) -> None:
        """Fronts, backer, standby and primary, in that order; then the TLS folder and the map file."""
        fronts, self._fronts = self._fronts, None
        if fronts is not None:
            fronts.__exit__(None, None, None)
        backer, self.backer = self.backer, None
        if backer is not None:
            backer.stop()
        servers, self._servers = self._servers, None
        if servers is not None:
            servers.__exit__(None, None, None)
        shutil.rmtree(self.workdir / "tls", ignore_errors=True)
        self.map_file.unlink(missing_ok=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def temp_workdir() -> Path:
    """A fresh folder for a data plane outside any user-private temp folder."""
    return Path(tempfile.mkdtemp(prefix="upskill-dp-"))
