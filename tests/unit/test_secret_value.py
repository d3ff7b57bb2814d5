"""Version tokens, JSON fields and PostgreSQL URLs: deterministic, encoded, and never echoing a value."""

from __future__ import annotations

import json
import urllib.parse

import psycopg.conninfo
import pytest
from pydantic import SecretStr

from upskill_operator.adapters.secret.database_source import Address, connection_document, postgres_url
from upskill_operator.adapters.secret.values import (
    CURRENT_KEY,
    SOURCE_KEY,
    Current,
    Resolved,
    content_token,
    field_values,
    same_value,
    version_token,
)
from upskill_operator.errors import TerminalError
from upskill_operator.models.secret import KIND, KeyMapping
from upskill_operator.reconcile.outcome import Outcome, State
from upskill_operator.status import status_patch

NASTY = 'p@ss:/w?rd#%&=+ "é'


def test_tokens_are_stable_uuid_shaped_and_specific() -> None:
    token = content_token("uid-1", SecretStr("value"))
    assert token == content_token("uid-1", SecretStr("value"))
    assert len(token) == 36
    assert token.count("-") == 4
    assert token != content_token("uid-2", SecretStr("value"))
    assert token != content_token("uid-1", SecretStr("other"))
    assert version_token("uid-1", "initial") != version_token("uid-1", "scheduled:x")
    assert "value" not in token


def test_values_never_show_in_reprs() -> None:
    current = Current("v1", SecretStr("hunter2"), None)
    assert "hunter2" not in repr(current)
    assert "hunter2" not in str(current)


def test_constant_time_equality() -> None:
    assert same_value(SecretStr("a"), SecretStr("a"))
    assert not same_value(SecretStr("a"), SecretStr("b"))
    assert not same_value(None, SecretStr("a"))


def test_url_percent_encodes_every_part() -> None:
    url = postgres_url("app user", SecretStr(NASTY), Address("db.example.com", 5432), "auth").get_secret_value()
    parsed = urllib.parse.urlsplit(url)
    assert parsed.scheme == "postgresql"
    assert urllib.parse.unquote(parsed.username or "") == "app user"
    assert urllib.parse.unquote(parsed.password or "") == NASTY
    assert parsed.hostname == "db.example.com"
    assert parsed.port == 5432
    assert parsed.path == "/auth"
    assert parsed.query == "sslmode=require"
    info = psycopg.conninfo.conninfo_to_dict(url)  # libpq's own parser agrees
    assert info["password"] == NASTY
    assert info["user"] == "app user"
    assert info["sslmode"] == "require"


def test_url_forms_for_ipv6_and_unix_sockets() -> None:
    v6 = postgres_url("u", SecretStr("p"), Address("::1", 5433), "db").get_secret_value()
    assert v6 == "postgresql://u:p@[::1]:5433/db?sslmode=require"
    socket = postgres_url("u", SecretStr("p"), Address("/run/pg", 5432), "db").get_secret_value()
    info = psycopg.conninfo.conninfo_to_dict(socket)
    assert (info["host"], info["port"], info["dbname"]) == ("/run/pg", "5432", "db")


def test_json_form_has_every_field() -> None:
    document = json.loads(
        connection_document("admin", SecretStr(NASTY), Address("h", 5432), "course").get_secret_value()
    )
    assert document["password"] == NASTY
    assert (document["host"], document["port"], document["dbname"]) == ("h", 5432, "course")
    assert document["url"].startswith("postgresql://admin:")
    assert document["sslmode"] == "require"


def test_field_values_and_their_refusals_never_echo_the_value() -> None:
    value = SecretStr(json.dumps({"url": "postgresql://x", "port": 5432, "secret": "hunter2"}))
    out = field_values(value, [KeyMapping(key="URL", field="url"), KeyMapping(key="PORT", field="port")])
    assert {k: v.get_secret_value() for k, v in out.items()} == {"URL": "postgresql://x", "PORT": "5432"}
    with pytest.raises(TerminalError) as missing:
        field_values(value, [KeyMapping(key="HOST", field="host")])
    assert "hunter2" not in str(missing.value)
    with pytest.raises(TerminalError) as not_json:
        field_values(SecretStr("hunter2"), [KeyMapping(key="HOST", field="host")])
    assert "hunter2" not in str(not_json.value)


def test_values_travelling_in_outputs_are_never_published_to_status() -> None:
    """Adapters hand values on under ``_`` keys; status only takes the fields the status model declares."""
    outputs = {
        "versionId": "v1",
        CURRENT_KEY: Current("v1", SecretStr("hunter2"), None),
        SOURCE_KEY: Resolved(origin="Secret s key k", content=SecretStr("hunter2")),
    }
    body = {"metadata": {"name": "n", "namespace": "ns", "generation": 1}, "status": {}}
    patch = status_patch(KIND, body, Outcome(State.READY, "Available", "ok", outputs))
    assert patch["versionId"] == "v1"
    assert not any(key.startswith("_") for key in patch)
    assert "hunter2" not in json.dumps(patch)
