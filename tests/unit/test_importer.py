"""Import from CSV/JSONL: all rows valid or nothing written; errors name file and line."""
import json
import shutil

import pytest

from knowledge_base.__main__ import main as kb_main
from knowledge_base.content import ContentError, load_content
from knowledge_base.importer import import_file


@pytest.fixture()
def content_dir(tmp_path, settings):
    target = tmp_path / "content"
    shutil.copytree(settings.content_dir, target)
    return target


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


CSV_HEADER = "id,category,question,answer,answer_en,paraphrases,question_en,updated\n"


def test_csv_rows_are_added_to_their_category_files(content_dir, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text(CSV_HEADER + 'loan.test_new,loan,新问题？,"新答案，以示例银行公告为准。",New answer.,问法一|问法二,New?,2026-11-23\n',
                      encoding="utf-8")
    before = len(load_content(content_dir).entries)
    [entry] = import_file(source, content_dir)
    after = load_content(content_dir)
    assert len(after.entries) == before + 1
    assert after.by_id()["loan.test_new"].paraphrases == ("问法一", "问法二") == entry.paraphrases
    assert after.by_id()["loan.test_new"].answer_en == "New answer." == entry.answer_en


def test_jsonl_rows_are_added(content_dir, tmp_path):
    source = tmp_path / "new.jsonl"
    row = {"id": "payment.test_new", "category": "payment", "question": "问？", "answer": "答。",
           "answer_en": "Answer.", "paraphrases": ["一", "二"]}
    source.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    import_file(source, content_dir)
    assert "payment.test_new" in load_content(content_dir).by_id()


@pytest.mark.parametrize("lines, message", [
    (['{"id": "crypto.x", "category": "crypto", "question": "q", "answer": "a", "answer_en": "a"}'], r"new.jsonl:1 .*unknown category"),
    (['{"id": "loan.x", "category": "loan", "question": "q", "answer": "a", "answer_en": "a"}',
      '{"id": "loan.x", "category": "loan", "question": "q", "answer": "a", "answer_en": "a"}'], r"new.jsonl:2: duplicate id loan.x"),
    (['{"id": "loan.x", "category": "loan", "question": "q", "answer": ""}'], r"new.jsonl:1: missing or empty field"),
    (['{"id": "loan.x", "category": "loan", "question": "q", "answer": "a"}'],
     r"new.jsonl:1 \(loan.x\): missing or empty field\(s\): answer_en"),
    (['{"id": "loan.x", "category": "loan", "question": "q", "answer": "a", "answer_en": "a"}', '{not json'], r"new.jsonl:2: malformed JSON"),
    (['{"id": "account.open_materials", "category": "account", "question": "q", "answer": "a", "answer_en": "a"}'],
     r"new.jsonl:1: id account.open_materials already exists"),
])
def test_invalid_jsonl_names_file_and_line_and_writes_nothing(content_dir, tmp_path, lines, message):
    source = tmp_path / "new.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _snapshot(content_dir)
    with pytest.raises(ContentError, match=message):
        import_file(source, content_dir)
    assert _snapshot(content_dir) == before


def test_malformed_csv_rows_are_reported(content_dir, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(CSV_HEADER + "loan.a,loan,q,a,a,,,2026-11-23,extra\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"bad.csv:2: more fields than header"):
        import_file(source, content_dir)
    source.write_text("id,question\nx,y\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"bad.csv:1: header lacks column\(s\) category, answer"):
        import_file(source, content_dir)


def test_cli_reports_import_errors(tmp_path, capsys, content_dir):
    source = tmp_path / "x.txt"
    source.write_text("hello", encoding="utf-8")
    assert kb_main(["import", str(source), "--content", str(content_dir)]) == 1
    assert "use .csv or .jsonl" in capsys.readouterr().err
