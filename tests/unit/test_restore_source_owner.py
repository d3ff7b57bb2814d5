"""One rule for every restore's source, databases and tables alike: only this namespace's data, or a granted name."""

from __future__ import annotations

import pytest

from upskill_operator.adapters.shared.restore_source import INVALID, refuse, source_owner_problem
from upskill_operator.errors import TerminalError
from upskill_operator.models.common import Model
from upskill_operator.reconcile.protocol import Target


class _Spec(Model):
    pass


def _target(namespace: str = "e2e", grants: tuple[str, ...] = ()) -> Target:
    return Target("UpskillTable", namespace, "restored", "u-1", 1, _Spec(), adopt_grants=grants)


@pytest.mark.parametrize("what", ["snapshot", "cluster", "table"])
@pytest.mark.parametrize(
    ("tags", "grants", "refused"),
    [
        pytest.param({"upskill.io/owner": "e2e/src"}, (), None, id="this namespace"),
        pytest.param({"upskill.io/owner": "other/src"}, (), "owned by 'other/src', of namespace 'other'", id="other"),
        pytest.param({"upskill.io/owner": "e2e2/src"}, (), "of namespace 'e2e2', not 'e2e'", id="a prefix namespace"),
        pytest.param({}, (), "carries no upskill.io/owner tag", id="untagged"),
        pytest.param({}, ("legacy-*",), None, id="untagged, granted by name"),
        pytest.param({}, ("other-*",), "needs an administrator's grant", id="untagged, another name granted"),
        pytest.param(
            {"upskill.io/owner": "other/src"}, ("legacy-*",), "refusing to restore", id="a grant never lends a tag"
        ),
    ],
)
def test_the_source_is_this_namespaces_or_granted(
    what: str, tags: dict[str, str], grants: tuple[str, ...], refused: str | None
) -> None:
    problem = source_owner_problem("spec.restore.x", what, "legacy-src", tags, _target(grants=grants))
    if refused is None:
        assert problem is None
    else:
        assert problem is not None
        assert refused in problem
        assert problem.startswith(f"spec.restore.x: {what} ")


def test_refuse_names_every_problem_and_passes_none() -> None:
    refuse([None, None])
    with pytest.raises(TerminalError) as raised:
        refuse(["a: first", None, "b: second"])
    assert str(raised.value) == "a: first; b: second"
    assert raised.value.reason == INVALID
