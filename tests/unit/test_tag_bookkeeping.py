"""The tag bookkeeping rules (models/tags.py): wire shapes, the owner tag, and which keys to set or remove."""

from __future__ import annotations

import pytest

from upskill_operator.models.tags import (
    OWNER_TAG,
    keys_after,
    keys_to_remove,
    managed_keys,
    owner_of,
    tag_changes,
    tag_dict,
    tag_list,
    tags_to_set,
)


def test_tag_list_and_tag_dict_are_inverse_and_keep_order() -> None:
    tags = {"team": "learn", "a": "", OWNER_TAG: "ns/x"}
    wire = tag_list(tags)
    assert wire == [{"Key": "team", "Value": "learn"}, {"Key": "a", "Value": ""}, {"Key": OWNER_TAG, "Value": "ns/x"}]
    assert tag_dict(wire) == tags
    assert list(tag_dict(wire)) == list(tags)


@pytest.mark.parametrize("empty", [None, [], ()])
def test_tag_dict_of_nothing_is_empty(empty: list[dict[str, str]] | None) -> None:
    assert tag_dict(empty) == {}


def test_tag_dict_keeps_the_last_value_of_a_repeated_key() -> None:
    assert tag_dict([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]) == {"k": "2"}


def test_owner_of_reads_only_the_ownership_tag() -> None:
    assert owner_of({OWNER_TAG: "ns/db", "owner": "someone"}) == "ns/db"
    assert owner_of({"owner": "someone"}) is None


def test_tags_to_set_is_what_differs_or_is_missing() -> None:
    assert tags_to_set({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "0"}) == {"b": "2", "c": "3"}
    assert tags_to_set({"a": "1"}, {"a": "1", "extra": "x"}) == {}


@pytest.mark.parametrize(
    ("managed_before", "wanted", "present", "removed"),
    [
        (["old"], {"a"}, {"a", "old"}, ("old",)),  # ours, dropped from the spec, still on the object
        ([], {"a"}, {"a", "theirs"}, ()),  # someone else's tag: never ours to remove
        (["old"], {"a"}, {"a"}, ()),  # already gone from AWS: nothing to call
        (["a"], {"a"}, {"a"}, ()),  # still wanted
        (["z", "b", "z"], set(), {"b", "z"}, ("b", "z")),  # sorted, each once
    ],
)
def test_keys_to_remove_only_removes_keys_we_set(
    managed_before: list[str], wanted: set[str], present: set[str], removed: tuple[str, ...]
) -> None:
    assert keys_to_remove(managed_before, wanted, present) == removed


def test_tag_changes_never_touch_foreign_keys() -> None:
    to_set, to_remove = tag_changes({"a": "1", "b": "2"}, {"a": "0", "old": "x", "theirs": "y"}, ["old", "b"])
    assert to_set == {"a": "1", "b": "2"}
    assert to_remove == ("old",)


def test_keys_after_records_wanted_keys_and_keys_still_to_remove() -> None:
    assert keys_after({"b": "1", "a": "2"}, ("old",)) == ("a", "b", "old")
    assert keys_after({"a": "1"}, ()) == ("a",)
    assert keys_after({}, ("a", "a")) == ("a",)


def test_managed_keys_reads_the_status_record() -> None:
    assert managed_keys({"managedTagKeys": ["a", "b"]}) == ("a", "b")
    assert managed_keys({"managedTagKeys": None}) == ()
    assert managed_keys({}) == ()
