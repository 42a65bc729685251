"""The ONNX twins that embed customer queries give PyTorch's vectors and are used only for their own weights."""
import json
import subprocess
import sys

import numpy as np
import pytest

from knowledge_base.config import KBConfig
from knowledge_base.embedding import embed_queries, load_encoder, load_query_encoder
from knowledge_base.encoder import onnx_twin
from knowledge_base.encoder.build import MANIFEST

TEXTS = ["我的信用卡丢了怎么办", "跨行转账手续费", "How do I reset my mobile banking login password?",
         "刚才排队排了好久，你好，打扰一下，我想问一下" * 12]  # the last one is longer than any limit


@pytest.fixture(scope="module", params=["base", "fine-tuned"])
def folder(request, settings):
    return settings.base_encoder_path if request.param == "base" else settings.encoder_path


def test_set_up_exports_a_current_twin_of_both_encoders(folder):
    assert onnx_twin.is_current(folder)
    manifest = json.loads((onnx_twin.twin_path(folder) / onnx_twin.MANIFEST).read_text())
    assert manifest["parity_min_cosine"] >= onnx_twin.PARITY_MIN_COSINE


def test_twin_vectors_equal_pytorch_ones_alone_and_in_a_padded_batch(folder):
    twin = load_query_encoder(folder, "onnx")
    assert isinstance(twin, onnx_twin.OnnxSentenceEncoder)
    reference = embed_queries(load_encoder(folder), TEXTS)
    batched = embed_queries(twin, TEXTS, batch_size=8)
    alone = np.vstack([embed_queries(twin, [t]) for t in TEXTS])
    assert batched.shape == alone.shape == reference.shape
    assert (reference * batched).sum(1).min() > 0.9999
    assert (reference * alone).sum(1).min() > 0.9999
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_torch_runtime_is_the_pytorch_model(settings):
    assert load_query_encoder(settings.base_encoder_path, "torch") is load_encoder(settings.base_encoder_path)


def _fake_encoder(tmp_path, fingerprint_files):
    folder = tmp_path / "enc"
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps({"name": "x", "files": fingerprint_files}))
    return folder


def _fake_twin(folder, source_fingerprint):
    twin = onnx_twin.twin_path(folder)
    twin.mkdir()
    (twin / onnx_twin.MODEL_FILE).write_bytes(b"")
    (twin / onnx_twin.MANIFEST).write_text(json.dumps({"exporter_version": onnx_twin.EXPORTER_VERSION,
                                                      "source_fingerprint": source_fingerprint}))


def test_a_twin_of_other_weights_is_not_current(tmp_path):
    from knowledge_base.embedding import encoder_fingerprint

    folder = _fake_encoder(tmp_path, {"model.safetensors": "aaa"})
    assert not onnx_twin.is_current(folder)  # no twin at all
    _fake_twin(folder, encoder_fingerprint(folder))
    assert onnx_twin.is_current(folder)
    (folder / MANIFEST).write_text(json.dumps({"name": "x", "files": {"model.safetensors": "bbb"}}))
    assert not onnx_twin.is_current(folder)  # the weights changed after the export


def test_unknown_query_runtime_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="KB_QUERY_RUNTIME must be one of onnx, torch"):
        KBConfig.from_env({"KB_QUERY_RUNTIME": "tensorrt"})


def test_onnx_command_without_encoders_says_how_to_build_them(tmp_path):
    result = subprocess.run([sys.executable, "-m", "knowledge_base.encoder", "onnx"], capture_output=True,
                            text=True, env={"ASSISTANT_MODELS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "no encoder at" in result.stderr and "make setup" in result.stderr


def test_the_runtime_setting_reaches_the_bots_knowledge_base_settings(monkeypatch):
    from bot.settings import load_settings

    monkeypatch.setenv("KB_QUERY_RUNTIME", "torch")
    assert load_settings().kb.query_runtime == "torch"
    monkeypatch.delenv("KB_QUERY_RUNTIME")
    assert load_settings().kb.query_runtime == "onnx"
