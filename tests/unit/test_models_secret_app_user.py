"""UpskillSecret with an application user: refused at admission when it names a proxy endpoint."""

from __future__ import annotations

import pytest

from upskill_operator.models.secret import APP_USER_DIRECT

from unit.crd_support import assert_refused, example, mutated

KIND = "UpskillSecret"
DATABASE = example(KIND, "auth-db-url")["spec"]


@pytest.mark.parametrize("endpoint", ["proxy", "proxyReadOnly", None])
def test_an_application_user_through_the_proxy_is_refused_by_the_crd(endpoint: str | None) -> None:
    source = {"ref": "auth-db", "user": "app_web", **({"endpoint": endpoint} if endpoint else {})}
    spec = mutated(DATABASE, {"source": {"database": source}})
    assert_refused(KIND, spec, [f"spec.source.database.endpoint: {APP_USER_DIRECT.message}"], "cel")


@pytest.mark.parametrize("endpoint", ["writer", "reader"])
def test_an_application_user_on_a_cluster_endpoint_is_accepted(endpoint: str) -> None:
    spec = mutated(DATABASE, {"source": {"database": {"ref": "auth-db", "user": "app_web", "endpoint": endpoint}}})
    assert_refused(KIND, spec, [], "cel")
