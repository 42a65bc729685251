import json

import pytest
import yaml

from knowledge_base.content import CATEGORIES, ContentError, load_content
from tests.conftest import shared_file


def test_every_entry_is_a_catalog_id_with_its_category(content):
    catalog = yaml.safe_load(shared_file("spec", "faq_catalog.yml").read_text(encoding="utf-8"))
    known = {e["id"]: e for e in catalog["entries"]}
    assert tuple(catalog["categories"]) == CATEGORIES
    for entry in content.entries:
        assert entry.id in known, entry.id
        assert entry.category == known[entry.id]["category"]
        assert entry.question == known[entry.id]["question"]
        assert entry.answer and len(entry.paraphrases) >= 8


def test_the_knowledge_base_covers_exactly_the_catalog(content):
    catalog = yaml.safe_load(shared_file("spec", "faq_catalog.yml").read_text(encoding="utf-8"))
    assert sorted(e.id for e in content.entries) == sorted(e["id"] for e in catalog["entries"])
    for entry in content.entries:
        assert entry.question_en and entry.updated and len(entry.paraphrases) >= 8, entry.id


def test_answers_never_ask_for_secrets(content):
    for entry in content.entries:
        assert not any(p in entry.answer for p in ("请提供您的密码", "请告诉我验证码", "请输入验证码")), entry.id


def test_no_text_of_the_dev_sets_is_used_verbatim(content):
    dev = set()
    for name in ("dev_faq.jsonl", "dev_intents.jsonl"):
        for line in shared_file("eval", name).read_text(encoding="utf-8").splitlines():
            dev.add(json.loads(line)["text"].strip())
    ours = {t for e in content.entries for t in e.index_texts()}
    from knowledge_base.index import load_negatives

    assert not ours & dev
    assert not set(load_negatives()) & dev


def _write(folder, name, entries):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")


GOOD = {"id": "account.x", "category": "account", "question": "问?", "answer": "答。"}


@pytest.mark.parametrize("bad, message", [
    ({**GOOD, "category": "crypto", "id": "crypto.x"}, "unknown category 'crypto'"),
    ({**GOOD, "answer": "  "}, "missing or empty field"),
    ({**GOOD, "id": "Account X"}, "id must look like"),
    ({**GOOD, "id": "loan.x"}, "does not match category"),
    ({**GOOD, "paraphrases": "not a list"}, "paraphrases must be a list"),
    ({**GOOD, "updated": "yesterday"}, "must be a date"),
])
def test_invalid_entries_are_rejected_naming_the_file(tmp_path, bad, message):
    _write(tmp_path, "account.yml", [bad])
    with pytest.raises(ContentError, match=message) as err:
        load_content(tmp_path)
    assert "account.yml" in str(err.value)


def test_duplicate_ids_across_files_are_rejected(tmp_path):
    _write(tmp_path, "a.yml", [GOOD])
    _write(tmp_path, "b.yml", [GOOD])
    with pytest.raises(ContentError, match="duplicate id account.x"):
        load_content(tmp_path)


def test_malformed_yaml_is_reported(tmp_path):
    (tmp_path / "account.yml").write_text("entries: [\n  - {id: ", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_content(tmp_path)
