"""The YAML readers: kubectl's YAML 1.1 (go-yaml v2 through sigs.k8s.io/yaml), YAML 1.2 core, and the dumper."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from upskill_operator.generate import kubectl_yaml

KUBECTL_READS = [
    *((word, True) for word in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE")),
    *((word, False) for word in ("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE")),
    *((word, None) for word in ("~", "null", "Null", "NULL")),
    *((word, word) for word in ("yEs", "oN", "nULL", "12:30", "1:20:30", "2001-12-14", "0o8", "0x", "_1", "1e400")),
    ("012", 10),
    ("019", 19),
    ("0x1F", 31),
    ("0o17", 15),
    ("0b101", 5),
    ("-0b101", -5),
    ("1_000", 1000),
    ("+1", 1),
    ("1e3", 1000),
    ("1.5e-3", 0.0015),
    (".5", 0.5),
    ("5.", 5),
    ("4.0", 4),  # Go writes float64(4) as 4, which the API server decodes as an integer
    ("1e21", 1e21),
    ("9223372036854775808", 9223372036854775808.0),  # beyond int64: a float64 on the server
    ('"N"', "N"),
    ("'yes'", "yes"),
    ("<<", "<<"),
]


@pytest.mark.parametrize(("text", "value"), KUBECTL_READS, ids=[text for text, _ in KUBECTL_READS])
def test_scalars_read_as_kubectl_reads_them(text: str, value: Any) -> None:
    read = kubectl_yaml.load(f"v: {text}\n")["v"]
    assert (read, type(read)) == (value, type(value))


def test_keys_become_strings_as_sigs_yaml_prints_them() -> None:
    text = "{y: 1, N: 2, 1: 3, 1.5: 4, 0x10: 6, 1e6: 7, 3.14159265: 8, 16777217.0: 9, 0.0001: 10, 1e-5: 11}\n"
    assert kubectl_yaml.load(text) == {
        "true": 1,
        "false": 2,
        "1": 3,
        "1.5": 4,
        "16": 6,
        "1e+06": 7,
        "3.1415927": 8,  # float32 precision
        "1.6777216e+07": 9,
        "0.0001": 10,
        "1e-05": 11,
    }


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf"])
def test_nan_and_infinity_cannot_be_sent(text: str) -> None:
    with pytest.raises(ValueError, match="unsupported value"):
        kubectl_yaml.load(f"v: {text}\n")


INTENDED = [("N", "N"), ("yes", "yes"), ("012", 12), ("0o17", 15), ("1e3", 1000.0), ("12:30", "12:30"), ("~", None)]


@pytest.mark.parametrize(("text", "value"), INTENDED, ids=[text for text, _ in INTENDED])
def test_the_intended_reading_is_yaml_1_2_core(text: str, value: Any) -> None:
    read = kubectl_yaml.intended_all(f"v: {text}\n")[0]["v"]
    assert (read, type(read)) == (value, type(value))


AMBIGUOUS = ["N", "n", "Y", "y", "yes", "no", "on", "off", "true", "~", "null", "", "012", "0o17", "0x1F", "1e3"]
AMBIGUOUS += ["1_000", "12:30", "2001-12-14", "4.0", ".5", "<<", "-.inf", ".nan"]


@pytest.mark.parametrize("string", AMBIGUOUS)
def test_the_dumper_quotes_every_string_another_reader_would_retype(string: str) -> None:
    text = yaml.dump({"v": string}, Dumper=kubectl_yaml.Dumper)
    assert kubectl_yaml.load(text) == {"v": string}
    assert kubectl_yaml.intended_all(text) == [{"v": string}]
    assert yaml.safe_load(text) == {"v": string}


@pytest.mark.parametrize("value", [True, False, None, 4, 0.5, 4.0, 1e20, -7, "plain", "S"])
def test_the_dumper_leaves_other_scalars_plain(value: Any) -> None:
    text = yaml.dump({"v": value}, Dumper=kubectl_yaml.Dumper)
    assert not {"'", '"', "!"} & set(text)
    assert yaml.safe_load(text)["v"] == value
