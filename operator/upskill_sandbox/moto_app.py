"""The moto server with our RDS and KMS extensions plugged into moto's own request dispatch.

moto serves each service from a Flask app whose view calls ``RDSResponse.dispatch``; the
extended server builds the same apps and, for RDS only, swaps that view for our subclass of
``RDSResponse`` (:mod:`.rds_extension`). Requests still arrive as real HTTP, are parsed by moto
against botocore's service model, and answers are serialised by moto's own serializer from the
same model, so the operator's botocore client parses them exactly as it parses AWS's. KMS is
served by :class:`~.kms_extension.KmsExtension` the same way. Requests are routed to those apps by
moto's own dispatcher, which :mod:`.moto_routing` spares re-matching every service's URLs each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.core.utils import convert_to_flask_response
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from upskill_sandbox.iam_enforcer import IamEnforcer
from upskill_sandbox.kms_extension import KmsExtension
from upskill_sandbox.moto_routing import CachedDispatcher
from upskill_sandbox.rds_restore import make_rds_response

__all__ = ["ExtendedMotoServer", "RdsEmulation"]

_RDS_VIEW = "RDSResponse.dispatch"
_KMS_VIEW = "KmsResponse.dispatch"


@dataclass
class RdsEmulation:
    """Knobs of the RDS extension, read on every request (so tests may change them while it runs).

    ``pending_describes``: after a create or modify, a cluster, instance, proxy, proxy endpoint or
    proxy target stays in its transitional state (creating, modifying, REGISTERING, ...) for this
    many describes of it, as AWS keeps it for minutes. 0 (the default) makes everything available
    at once, as plain moto does.

    ``final_snapshot_describes``: a cluster deleted with a final snapshot stays ``deleting``, and the
    snapshot ``creating``, until a describe of them finds this many describes already counted (read
    on every describe: a large value holds them, 0 releases them). 0 when the delete is made keeps
    moto's instant delete. See :mod:`.rds_snapshots`.
    """

    pending_describes: int = 0
    final_snapshot_describes: int = 0


class ExtendedMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` whose RDS endpoint is served by the extension (and IAM enforced, when asked)."""

    def __init__(
        self, emulation: RdsEmulation, ip_address: str, port: int, verbose: bool, enforcer: IamEnforcer | None = None
    ) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=verbose)
        self.emulation = emulation
        self.enforcer = enforcer
        self._response = make_rds_response(emulation)

    def _create_app(self, service: Any) -> Any:
        app = create_backend_app(service)
        if service == "rds" and _RDS_VIEW in app.view_functions:
            app.view_functions[_RDS_VIEW] = convert_to_flask_response(self._response.dispatch)
        if service == "kms" and _KMS_VIEW in app.view_functions:
            app.view_functions[_KMS_VIEW] = convert_to_flask_response(KmsExtension.dispatch)
        return app

    def _server_entry(self) -> None:
        app: Any = CachedDispatcher(self._create_app)  # moto's routing, each host's backend found once
        if self.enforcer is not None:
            app = self.enforcer.wrap(app)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
