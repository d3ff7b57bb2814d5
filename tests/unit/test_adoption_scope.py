"""The adoption scope: one rule (``Target.claim``), the names it compares, its messages and its setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from upskill_operator.adapters.database.common import naming as db_naming
from upskill_operator.adapters.shared.naming import rival_namespaces
from upskill_operator.config import Settings
from upskill_operator.models.common import Model
from upskill_operator.models.database import DatabaseSpec
from upskill_operator.reconcile.engine import Engine
from upskill_operator.reconcile.outcome import State
from upskill_operator.reconcile.protocol import Claim, Naming, Observation, Target

from unit.crd_support import example
from unit.fake_adapter import FakeAdapter

AUTH = example("UpskillDatabase", "auth-db")["spec"]


class Spec(Model):
    adopt: bool = False


def target(namespace: str = "team-a", name: str = "x", adopt: bool = True, grants: tuple[str, ...] = ()) -> Target:
    return Target("Fake", namespace, name, "u-1", 1, Spec(adopt=adopt), adopt_grants=grants)


@pytest.mark.parametrize(
    ("namespace", "name", "rivals"),
    [
        ("team", "orders", ()),
        ("team-a", "x", ("team",)),
        ("team", "a-x", ("team-a",)),
        ("upskill", "auth-db", ("upskill-auth",)),
        ("a-b-c", "d", ("a", "a-b")),
        ("team", "a.x", ()),  # a resource name's dots stay in the join: no namespace holds a dot
    ],
)
def test_rival_namespaces_are_every_other_split_of_the_join(namespace: str, name: str, rivals: tuple[str]) -> None:
    assert rival_namespaces(namespace, name) == rivals
    for rival in rivals:  # each rival really derives the same join with a valid resource name
        rest = f"{namespace}-{name}".removeprefix(f"{rival}-")
        assert f"{rival}-{rest}" == f"{namespace}-{name}"
        assert rest[0].isalnum()


CLAIMS = {
    "TaggedOursAfterRebuild": ("team-a/x", Naming("n", "n"), (), Claim.OURS),
    "TaggedForeign": ("team/a-x", Naming("n", "n"), ("*",), Claim.FOREIGN),
    "UntaggedOwnDerivedName": (None, Naming("upskill-team-orders", "upskill-team-orders"), (), Claim.ADOPT),
    "UntaggedDerivedNameWithRival": (None, Naming("u-team-a-x", "u-team-a-x", ("team",)), (), Claim.OUT_OF_SCOPE),
    "UntaggedRivalResolvedByGrant": (
        None,
        Naming("u-team-a-x", "u-team-a-x", ("team",)),
        ("u-team-a-x",),
        Claim.ADOPT,
    ),
    "UntaggedCustomName": (None, Naming("team-b/stripe-live", "upskill/team-a/x"), (), Claim.OUT_OF_SCOPE),
    "UntaggedCustomNameGranted": (None, Naming("legacy-orders", "u-team-a-x"), ("legacy-*",), Claim.ADOPT),
    "GlobsAreCaseSensitive": (None, Naming("Legacy-orders", "u-team-a-x"), ("legacy-*",), Claim.OUT_OF_SCOPE),
    "NoNamingNoAdoption": (None, None, ("*",), Claim.OUT_OF_SCOPE),
}


@pytest.mark.parametrize(("owner", "naming", "grants", "want"), CLAIMS.values(), ids=CLAIMS.keys())
def test_claim(owner: str | None, naming: Naming | None, grants: tuple[str, ...], want: Claim) -> None:
    assert target(grants=grants).claim(owner, naming) is want
    assert target(grants=grants).owns(owner, naming) is (want in (Claim.OURS, Claim.ADOPT))


def test_in_scope_without_adopt_still_needs_adopt() -> None:
    named = Naming("upskill-team-orders", "upskill-team-orders")
    assert target(adopt=False).claim(None, named) is Claim.ADOPTION_REQUIRED


def refusal(naming: Naming, namespace: str = "attacker") -> str:
    adapter = FakeAdapter(observations=[Observation(exists=True, owner=None, naming=naming)], owner_field="spec.x")
    outcome = Engine([adapter]).reconcile(target(namespace=namespace))
    assert (outcome.state, outcome.reason, adapter.writes) == (State.TERMINAL, "OutsideAdoptionScope", [])
    return outcome.message


def test_refusal_of_a_custom_name_names_the_field_the_name_and_the_rule() -> None:
    message = refusal(Naming("team-b/stripe-live", "upskill/attacker/x"))
    assert message.startswith("fake: spec.x: 'team-b/stripe-live' exists without the upskill.io/owner tag")
    assert "outside the adoption scope of namespace 'attacker'" in message
    assert "only the name this resource derives itself ('upskill/attacker/x') is adoptable" in message
    assert "UPSKILL_ADOPT_SCOPES" in message
    assert "nothing was tagged, read or changed" in message


def test_refusal_of_a_shared_derived_name_names_the_rival() -> None:
    message = refusal(Naming("upskill-team-a-x", "upskill-team-a-x", ("team",)), namespace="team-a")
    assert "namespace 'team' derives the same name" in message
    assert "UPSKILL_ADOPT_SCOPES" in message


def test_engine_applies_only_the_settings_grants_of_the_targets_namespace() -> None:
    named = Naming("legacy-orders", "upskill-team-a-x")
    adapter = FakeAdapter(observations=[Observation(exists=True, owner=None, naming=named)], owner_field="spec.x")
    forged = target(grants=("*",))  # a Target built with grants of its own gets the settings' instead
    outcome = Engine([adapter], adopt_scopes={"team-b": ("legacy-*",)}).reconcile(forged)
    assert (outcome.reason, adapter.writes) == ("OutsideAdoptionScope", [])


def test_database_objects_are_named_from_the_derived_cluster_with_rivals() -> None:
    spec = DatabaseSpec.model_validate({**AUTH, "clusterIdentifier": "legacy-db"})
    t = Target("UpskillDatabase", "team-a", "x", "u", 1, spec)
    assert db_naming(t, "upskill", lambda n: n.security_group) == Naming(
        "legacy-db-db", "upskill-team-a-x-db", ("team",)
    )
    plain = Target("UpskillDatabase", "team", "orders.v2", "u", 1, DatabaseSpec.model_validate(AUTH))
    assert db_naming(plain, "upskill", lambda n: n.cluster) == Naming(
        "upskill-team-orders-v2", "upskill-team-orders-v2", ("team-orders",)
    )


def test_setting_parses_json_and_pairs() -> None:
    parsed = Settings.from_env({"UPSKILL_ADOPT_SCOPES": '{"team-a": ["legacy-*", "upskill/team-a/*"], "b": "x"}'})
    assert parsed.adopt_scopes == {"team-a": ("legacy-*", "upskill/team-a/*"), "b": ("x",)}
    pairs = Settings.from_env({"UPSKILL_ADOPT_SCOPES": "team-a=legacy-*, team-a=old-*,b=x"})
    assert pairs.adopt_scopes == {"team-a": ("legacy-*", "old-*"), "b": ("x",)}
    assert Settings.from_env({}).adopt_scopes == {}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Team-A=legacy-*", "'Team-A' is not a namespace name"),
        ("*=legacy-*", "'*' is not a namespace name"),
        ("team-a=", "namespace 'team-a' needs at least one non-empty glob"),
    ],
)
def test_setting_refuses_what_is_not_a_namespace_grant(text: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        Settings.from_env({"UPSKILL_ADOPT_SCOPES": text})


def test_is_ours_is_the_one_ownership_predicate_claim_uses() -> None:
    mine = target()
    assert mine.is_ours("team-a/x")
    assert not mine.is_ours("team-a/y")
    assert not mine.is_ours("team/a-x")  # the same joined name, another resource
    assert not mine.is_ours(None)
    assert mine.claim("team-a/x", None) is Claim.OURS
    assert mine.claim("team-a/y", None) is Claim.FOREIGN


@pytest.mark.parametrize(
    ("owner", "name", "adopt", "expected"),
    [
        (None, "p-team-a-x", False, Claim.ADOPT),  # rivals derive the name too, but the source proves it ours
        (None, "typed-name", False, Claim.OUT_OF_SCOPE),  # a name the spec typed stays outside the scope
        ("team-b/y", "p-team-a-x", True, Claim.FOREIGN),  # a tag always wins
        ("team-a/x", "p-team-a-x", False, Claim.OURS),
    ],
    ids=["derived-with-rivals", "typed-name", "foreign", "ours"],
)
def test_an_object_made_here_untagged_is_claimed_only_under_the_derived_name(
    owner: str | None, name: str, adopt: bool, expected: Claim
) -> None:
    naming = Naming(name, "p-team-a-x", rival_namespaces("team-a", "x"))
    assert target(adopt=adopt).claim(owner, naming, made_here=True) is expected
    if owner is None and name == naming.derived:  # without the proof, the rivals keep it out of scope
        assert target(adopt=adopt).claim(owner, naming) is Claim.OUT_OF_SCOPE
