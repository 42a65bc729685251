import json
import re

import pytest
import yaml

from knowledge_base.config import DEFAULT_NEGATIVES as NEGATIVES
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


BANK = "示例银行"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# A Chinese name the customer must find (menu item, app, stamp) may appear in straight double
# quotes, always with an English gloss: `the "转账" (Transfer) menu` or `a U-Key ("U盾")`.
GLOSSED = re.compile(r'"([^"]*)"\s*\([^)]*[A-Za-z][^)]*\)|\("([^"]*)"\)')
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def _numbers_zh(text: str) -> set[str]:
    """Numbers written with digits in a Chinese answer, 万/亿 multiplied out (5万 -> 50000)."""
    found = set()
    for digits, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(万|亿)?", text):
        value = float(digits) * {"万": 10_000, "亿": 100_000_000}.get(unit, 1)
        found.add(str(int(value)) if value == int(value) else str(value))
    return found


def _numbers_en(text: str) -> set[str]:
    """Numbers in an English answer: thousands separators dropped, month names as their number."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    for number, month in enumerate(MONTHS, start=1):
        text = re.sub(rf"\b{month}\b", f" {number} ", text)
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def test_every_entry_has_an_english_answer_without_chinese_text(content):
    assert len(content.entries) >= 160
    for entry in content.entries:
        english = entry.answer_en
        assert english and english.startswith("Hello, "), entry.id
        assert "Shili" not in english, entry.id  # the bank's name is 示例银行, untranslated
        rest = english.replace(BANK, "")
        for match in GLOSSED.finditer(rest):
            quoted = match.group(1) or match.group(2)
            assert len(CJK.findall(quoted)) <= 8, (entry.id, quoted)  # a name, not a sentence
        rest = GLOSSED.sub("", rest)
        assert not CJK.search(rest), (entry.id, CJK.findall(rest))


def test_english_answers_keep_every_number_of_the_chinese_answer(content):
    for entry in content.entries:
        missing = _numbers_zh(entry.answer) - _numbers_en(entry.answer_en)
        assert not missing, (entry.id, sorted(missing))


def test_english_answers_keep_the_caveats(content):
    for entry in content.entries:
        if "以示例银行公告为准" in entry.answer:
            assert "subject to 示例银行's announcements" in entry.answer_en, entry.id
        if "以示例银行规定为准" in entry.answer:
            assert "示例银行's rules" in entry.answer_en, entry.id
        if "110" in entry.answer:
            assert "110" in entry.answer_en and "police" in entry.answer_en, entry.id
        if "不会" in entry.answer and "验证码" in entry.answer and "索要" in entry.answer:
            assert re.search(r"never ask", entry.answer_en), entry.id


def test_the_number_checks_normalise_units_and_dates():
    assert _numbers_zh("日累计1万元、年累计20万元，2008年10月9日，1-3个工作日") == {
        "10000", "200000", "2008", "10", "9", "1", "3"}
    assert _numbers_en("CNY 10,000 per day and CNY 200,000 per year, since October 9, 2008") >= {
        "10000", "200000", "2008", "10", "9"}


def test_no_text_of_the_dev_sets_is_used_verbatim(content):
    dev = set()
    for name in ("dev_faq.jsonl", "dev_intents.jsonl"):
        for line in shared_file("eval", name).read_text(encoding="utf-8").splitlines():
            dev.add(json.loads(line)["text"].strip())
    ours = {t for e in content.entries for t in e.index_texts()}
    from knowledge_base.index import load_negatives

    from knowledge_base.calibrate import load_heldout

    questions, requests = load_heldout(NEGATIVES.parent / "heldout.yml")
    assert not ours & dev
    assert not set(load_negatives()) & dev
    assert not {t.strip() for texts in questions.values() for t in texts} & dev
    assert not {t.strip() for t in requests} & dev


def test_heldout_phrasings_are_new_and_cover_every_entry(content):
    """Written for calibration only: never an indexed phrasing or a training example."""
    from knowledge_base.calibrate import load_heldout

    questions, requests = load_heldout(NEGATIVES.parent / "heldout.yml")
    assert set(questions) == {e.id for e in content.entries}
    assert all(len(texts) >= 3 for texts in questions.values()) and len(requests) >= 150
    indexed = {t.strip() for e in content.entries for t in e.index_texts()}
    assert not {t.strip() for texts in questions.values() for t in texts} & indexed


def _write(folder, name, entries):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")


GOOD = {"id": "account.x", "category": "account", "question": "问?", "answer": "答。",
        "answer_en": "Answer."}
NO_ENGLISH = r"\(account\.x\): missing or empty field\(s\): answer_en"


@pytest.mark.parametrize("bad, message", [
    ({**GOOD, "category": "crypto", "id": "crypto.x"}, "unknown category 'crypto'"),
    ({**GOOD, "answer": "  "}, "missing or empty field"),
    ({k: v for k, v in GOOD.items() if k != "answer_en"}, NO_ENGLISH),
    ({**GOOD, "answer_en": " "}, NO_ENGLISH),
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


def test_the_english_answer_is_part_of_the_entry_and_its_hash(tmp_path):
    _write(tmp_path, "account.yml", [GOOD])
    [entry] = load_content(tmp_path).entries
    assert entry.answer_en == "Answer." and entry.as_dict()["answer_en"] == "Answer."
    before = load_content(tmp_path).content_hash()
    _write(tmp_path, "account.yml", [{**GOOD, "answer_en": "Another answer."}])
    assert load_content(tmp_path).content_hash() != before


def test_duplicate_ids_across_files_are_rejected(tmp_path):
    _write(tmp_path, "a.yml", [GOOD])
    _write(tmp_path, "b.yml", [GOOD])
    with pytest.raises(ContentError, match="duplicate id account.x"):
        load_content(tmp_path)


def test_malformed_yaml_is_reported(tmp_path):
    (tmp_path / "account.yml").write_text("entries: [\n  - {id: ", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_content(tmp_path)
