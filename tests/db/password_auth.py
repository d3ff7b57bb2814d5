"""Make a test PostgreSQL server check the passwords of application roles (``app_*``).

The embedded server trusts every local connection, which would let any password through. This
puts a ``scram-sha-256`` rule for roles named ``app_*`` at the top of its pg_hba.conf (and
reloads), so these roles, and only these, must present their password; the file is restored on
exit. A server whose pg_hba.conf is not on this machine (``DATABASE_URL``) skips the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

__all__ = ["APP_ROLE_PREFIX", "app_roles_need_passwords"]

APP_ROLE_PREFIX = "app_"
_RULE = "local all /^app_ scram-sha-256\nhost all /^app_ 127.0.0.1/32 scram-sha-256\n"


@contextmanager
def app_roles_need_passwords(admin_url: str) -> Iterator[None]:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        row = admin.execute("SHOW hba_file").fetchone()
        assert row is not None
        hba = Path(str(row[0]))
        if not hba.exists():
            pytest.skip("the server's pg_hba.conf is not reachable (DATABASE_URL)")
        original = hba.read_text()
        hba.write_text(_RULE + original)
        admin.execute("SELECT pg_reload_conf()")
        try:
            yield
        finally:
            hba.write_text(original)
            admin.execute("SELECT pg_reload_conf()")
