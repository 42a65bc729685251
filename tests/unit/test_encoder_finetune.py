"""The bank-adapted encoder: built from the base by a seeded fine-tune, cached by fingerprint."""
import json

import numpy as np
import pytest

from knowledge_base.embedding import embed_queries
from knowledge_base.encoder import finetune
from knowledge_base.encoder.build import MANIFEST, folder_checksums


@pytest.fixture(scope="module")
def tiny_content(tmp_path_factory):
    folder = tmp_path_factory.mktemp("content")
    entries = [{"id": f"account.tiny_{i}", "category": "account", "question": q, "answer": "答", "answer_en": "A",
                "paraphrases": p, "updated": "2026-11-23"}
               for i, (q, p) in enumerate([("信用卡免息期多长", ["免息期几天"]), ("挂失要带什么", ["挂失材料"]),
                                           ("转账多久到账", ["跨行转账什么时候到"])])]
    import yaml

    (folder / "account.yml").write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    return folder


def test_installed_encoder_is_current_for_the_knowledge_base(settings):
    manifest = json.loads((settings.encoder_path / MANIFEST).read_text())
    groups = finetune.phrasing_groups(settings.content_dir)
    params = finetune.FinetuneParams(**manifest["params"])
    assert manifest["fingerprint"] == finetune.fingerprint(settings.base_encoder_path, groups, params)
    assert manifest["files"] == folder_checksums(settings.encoder_path)
    assert manifest["phrasings"] == sum(len(g) for g in groups)


def test_finetune_is_seeded_cached_and_changes_the_encoder(settings, tiny_content, tmp_path):
    params = finetune.FinetuneParams(steps=2, batch_size=3)
    groups = finetune.phrasing_groups(tiny_content)
    out = tmp_path / "tuned"
    finetune.finetune(settings.base_encoder_path, out, groups, "query: ", "passage: ", params)
    first = json.loads((out / MANIFEST).read_text())
    finetune.finetune(settings.base_encoder_path, out, groups, "query: ", "passage: ", params)
    assert json.loads((out / MANIFEST).read_text())["built_at"] == first["built_at"]  # kept, not retrained
    again = tmp_path / "again"
    finetune.finetune(settings.base_encoder_path, again, groups, "query: ", "passage: ", params)
    assert json.loads((again / MANIFEST).read_text())["files"] == first["files"]  # same seed, same weights

    from sentence_transformers import SentenceTransformer

    text = ["信用卡免息期多长"]
    tuned = embed_queries(SentenceTransformer(str(out), device="cpu"), text)
    base = embed_queries(SentenceTransformer(str(settings.base_encoder_path), device="cpu"), text)
    assert not np.allclose(tuned, base)

