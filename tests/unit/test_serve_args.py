"""The Rasa server's command line survives any generated secret (a token may start with "-")."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.serve import Servers, log_tail


@pytest.mark.parametrize("token", ["-starts-with-a-dash-" + "x" * 20, "--looks-like-an-option" + "y" * 20])
def test_rasa_accepts_a_token_that_starts_with_a_dash(settings, monkeypatch, token):
    from rasa.__main__ import create_argument_parser

    monkeypatch.setenv("RASA_API_TOKEN", token)
    servers = Servers(model=Path("models/rasa/model.tar.gz"), settings=dataclasses.replace(settings, rasa_port=5999))
    parsed = create_argument_parser().parse_args(servers.rasa_args())
    assert parsed.auth_token == token
    assert parsed.port == 5999 and parsed.model == "models/rasa/model.tar.gz"


def test_start_up_failure_shows_the_end_of_the_servers_log(tmp_path):
    log = tmp_path / "rasa.log"
    log.write_text("".join(f"line {n}\n" for n in range(40)) + "rasa: error: argument --auth-token\n")
    tail = log_tail(log)
    assert "rasa: error: argument --auth-token" in tail and "line 39" in tail and "line 10" not in tail
    assert log_tail(tmp_path / "missing.log") == ""
