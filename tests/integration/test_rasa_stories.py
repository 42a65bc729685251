"""Rasa's own checks: `rasa data validate` and the conversation test stories in tests/stories."""
from __future__ import annotations

import subprocess

import pytest

from bot.settings import REPO_ROOT
from bot.train import ensure_model, rasa_env, rasa_executable

pytestmark = pytest.mark.slow


def _rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([rasa_executable(), *args], cwd=REPO_ROOT, env=rasa_env(), capture_output=True,
                          text=True, timeout=timeout)


def test_training_data_validates():
    result = _rasa("data", "validate", "--domain", "bot/domain", "--data", "intents/data", "bot/data",
                   "--config", "bot/config.yml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_conversation_stories_pass(tmp_path):
    stories = sorted((REPO_ROOT / "tests" / "stories").glob("*.yml"))
    assert stories
    result = _rasa("test", "core", "--model", str(ensure_model()), "--stories", "tests/stories",
                   "--out", str(tmp_path), "--no-plot", "--e2e")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed[:6000]
