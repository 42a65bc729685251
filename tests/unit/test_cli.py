"""CLI errors say what was wrong and how to fix it (exit code 1, message on stderr)."""
from knowledge_base.__main__ import main as kb_main


def test_build_with_an_empty_content_folder(tmp_path, capsys):
    assert kb_main(["build", "--content", str(tmp_path), "--out", str(tmp_path / "idx")]) == 1
    assert "no *.yml content files found" in capsys.readouterr().err


def test_search_without_an_index(tmp_path, capsys):
    assert kb_main(["search", "开户", "--index", str(tmp_path)]) == 1
    assert "python -m knowledge_base build" in capsys.readouterr().err


def test_search_prints_json_hits(capsys, retriever):
    assert kb_main(["search", "转账多久到账", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert '"faq_id": "transfer.arrival_time"' in out


def test_the_cli_reads_the_index_folder_from_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "empty-index"))
    assert kb_main(["search", "开户"]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "empty-index") in err and "python -m knowledge_base build" in err
