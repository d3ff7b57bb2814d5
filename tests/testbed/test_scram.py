"""SCRAM-SHA-256 both sides: the RFC 7677 example, a wrong password, channel binding refused."""

from __future__ import annotations

import base64

import pytest

from upskill_sandbox.scram import ScramClient, ScramError, ScramServer


def test_the_rfc_7677_example_with_the_client() -> None:
    client = ScramClient("pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    client._bare = "n=user,r=rOprNGfwEbeRWgbNEkqO"  # the RFC names its user; PostgreSQL sends n=
    final = client.final(server_first)
    assert final.endswith("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    with pytest.raises(ScramError):
        client.verify("v=" + base64.b64encode(b"x" * 32).decode())


def test_server_and_client_agree_and_a_wrong_password_is_refused() -> None:
    for password, ok in (("right", True), ("wrong", False)):
        server, client = ScramServer("right"), ScramClient(password)
        final = client.final(server.first(client.first()))
        if ok:
            client.verify(server.final(final))
        else:
            with pytest.raises(ScramError, match="password authentication failed"):
                server.final(final)


@pytest.mark.parametrize("header", ["y,,", "n,,"])
def test_no_channel_binding_flags_are_accepted(header: str) -> None:
    server = ScramServer("pw")
    server.first(f"{header}n=,r=abc")


def test_channel_binding_is_refused() -> None:
    with pytest.raises(ScramError, match="channel binding"):
        ScramServer("pw").first("p=tls-server-end-point,,n=,r=abc")
