"""The data plane each e2e module's ``pg_url`` fixture started, by that URL (one registry for every importer)."""

from __future__ import annotations

from upskill_sandbox.dataplane import DataPlane

PLANES: dict[str, DataPlane] = {}
