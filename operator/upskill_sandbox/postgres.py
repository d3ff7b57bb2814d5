"""A real PostgreSQL for the tests that need one server: ``DATABASE_URL`` when set, else a bed primary.

The bed primary (:mod:`.pg_server`) listens on a unix socket only and checks every login with
SCRAM, so a wrong password is refused as on RDS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from upskill_sandbox.pg_server import bed_servers

__all__ = ["postgres"]


@contextmanager
def postgres(workdir: Path | None = None) -> Iterator[str]:
    """Yield the bed superuser's connection string; stop and delete a started server on exit.

    ``workdir`` is accepted for callers that pass one; the server's folders always live in a short
    temp folder (a unix socket path must stay under 107 bytes)."""
    del workdir
    with bed_servers(standby=False) as (backends, _):
        yield backends.admin_conninfo()
