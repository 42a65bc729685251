"""Project wiring: taxonomy mirror, domain intents, settings errors, train fingerprint, ports."""
import socket

import pytest
import yaml

from bot import serve, train
from bot.settings import REPO_ROOT, load_settings
from tests.conftest import shared_file


def test_taxonomy_mirrors_the_shared_spec():
    ours = yaml.safe_load((REPO_ROOT / "intents" / "taxonomy.yml").read_text(encoding="utf-8"))
    spec = yaml.safe_load(shared_file("spec", "intents.yml").read_text(encoding="utf-8"))
    assert ours == spec


def test_domain_intents_are_exactly_the_taxonomy():
    taxonomy = yaml.safe_load((REPO_ROOT / "intents" / "taxonomy.yml").read_text(encoding="utf-8"))
    intents = set()
    for part in (REPO_ROOT / "bot" / "domain").glob("*.yml"):
        intents |= set(yaml.safe_load(part.read_text(encoding="utf-8")).get("intents", []))
    assert intents == set(taxonomy["intents"])


def test_rest_channel_stays_enabled():
    """Architecture contract: /webhooks/rest/webhook. Ours replaces Rasa's stock class under its name."""
    import importlib

    credentials = yaml.safe_load((REPO_ROOT / "bot" / "credentials.yml").read_text(encoding="utf-8"))
    rest = [key for key in credentials if "." in key
            and getattr(importlib.import_module(key.rsplit(".", 1)[0]), key.rsplit(".", 1)[1]).name() == "rest"]
    assert rest == ["connectors.rest.channel.BankRestInput"]
    assert "rest" not in credentials  # Rasa's stock channel would answer on the same URL without our checks


def test_bad_numeric_settings_name_the_variable(monkeypatch):
    monkeypatch.setenv("RASA_PORT", "fifty")
    with pytest.raises(ValueError, match="RASA_PORT='fifty' must be an integer"):
        load_settings()


def test_paths_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_ENCODER_PATH", str(tmp_path / "bank-model"))
    assert load_settings().encoder_path == tmp_path / "bank-model"


def test_model_name_follows_the_training_inputs():
    assert train.fingerprint() == train.fingerprint()
    assert train.fingerprint() in train.model_path().name
    inputs = {p.relative_to(REPO_ROOT).as_posix() for p in train._input_files()}
    assert {"bot/config.yml", "bot/domain/core.yml", "bot/data/rules.yml", "bot/data/flow_rules.yml",
            "intents/data/faq.yml"} <= inputs


def test_a_taken_port_is_reported_with_the_variable_to_change():
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(serve.PortTaken, match=f"port {port} is already in use.*RASA_PORT="):
            serve.ensure_port_free(port, "RASA_PORT")


def test_the_domain_goes_to_every_action_that_reads_it():
    """endpoints.yml sends the domain only to actions marked `send_domain`; every form validation
    (required slots, slot mappings) and the aside answer (which offer responses exist) must be marked."""
    import importlib
    import inspect
    import pkgutil

    import bot.actions
    from rasa.shared.core.domain import Domain
    from rasa_sdk import FormValidationAction

    endpoints = yaml.safe_load((REPO_ROOT / "bot" / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True
    needing = {"action_answer_aside"}
    for module in pkgutil.iter_modules(bot.actions.__path__):
        for _, cls in inspect.getmembers(importlib.import_module(f"bot.actions.{module.name}"), inspect.isclass):
            if issubclass(cls, FormValidationAction) and not inspect.isabstract(cls) and cls.__module__.startswith("bot."):
                needing.add(cls().name())
    assert len(needing) >= 8
    domain = Domain.load(str(REPO_ROOT / "bot" / "domain"))
    assert {name for name in needing if not domain.does_custom_action_explicitly_need_domain(name)} == set()
