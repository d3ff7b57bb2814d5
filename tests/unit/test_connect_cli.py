"""connect is both ``upskill-operator connect`` and ``kubectl upskill connect``; forward only the former."""

from __future__ import annotations

import pytest

from upskill_operator.cli import kubectl_main, main


@pytest.mark.parametrize("entry", [main, kubectl_main])
def test_connect_takes_kubectls_options_in_both_entries(entry: object, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        entry(["connect", "--help"])  # type: ignore[operator]
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in ("-n NAMESPACE", "--context", "--kubeconfig", "--env-file", "--once"):
        assert option in out


def test_forward_is_not_a_kubectl_plugin_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        kubectl_main(["forward", "--route", "1=h:2"])
    assert done.value.code == 2
    with pytest.raises(SystemExit) as done:
        main(["forward", "--route", "nonsense"])
    assert done.value.code == 2
    assert "expected LISTEN=HOST:PORT" in capsys.readouterr().err
