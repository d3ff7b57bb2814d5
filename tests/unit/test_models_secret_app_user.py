"""UpskillSecret with an application user: accepted on every endpoint (the proxy ones are registered)."""

from __future__ import annotations

import pytest

from upskill_operator.models.validation import validate_spec

from unit.crd_support import admission_errors, assert_refused, example, mutated

KIND = "UpskillSecret"
DATABASE = example(KIND, "auth-db-url")["spec"]


@pytest.mark.parametrize("endpoint", ["proxy", "proxyReadOnly", "writer", "reader", None])
def test_an_application_user_is_accepted_on_every_endpoint(endpoint: str | None) -> None:
    source = {"ref": "auth-db", "user": "app_web", **({"endpoint": endpoint} if endpoint else {})}
    spec = mutated(DATABASE, {"source": {"database": source}})
    assert_refused(KIND, spec, [], "cel")


def test_an_application_user_must_be_a_plain_role_name() -> None:
    spec = mutated(DATABASE, {"source": {"database": {"ref": "auth-db", "user": "app web; DROP ROLE x"}}})
    (message,) = validate_spec(KIND, spec)
    assert message.startswith("spec.source.database.user: ")
    assert admission_errors(KIND, spec)  # the CRD's schema refuses it too
