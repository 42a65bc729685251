"""The knowledge base is a library at the bottom: it imports neither `bot` nor `connectors`,
reads the environment only through KBConfig.from_env(), and works from an explicit config."""
from __future__ import annotations

import ast
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import knowledge_base
from knowledge_base.config import DEFAULT_USER_DICT, KBConfig

PACKAGE = Path(knowledge_base.__file__).resolve().parent
FORBIDDEN = {"bot", "connectors"}
KB_VARIABLES = ("ASSISTANT_MODELS_DIR", "KB_ENCODER_PATH", "KB_INDEX_DIR", "KB_CONTENT_DIR",
                "KB_QUERY_PREFIX", "KB_PASSAGE_PREFIX", "KB_RELOAD_INTERVAL_S")


def _modules() -> list[Path]:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 15, "the knowledge_base package was not found"
    return modules


def _imported_packages(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level package) of every import, including importlib/__import__ with a literal name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id == "__import__"))):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def test_the_import_check_sees_every_form_of_import():
    tree = ast.parse("import bot.settings\nfrom connectors.limits import x\nfrom bot import settings\n"
                     "import importlib\nimportlib.import_module('bot.settings')\n__import__('connectors')\n"
                     "from . import scoring\n")
    assert [name for _, name in _imported_packages(tree) if name in FORBIDDEN] == [
        "bot", "connectors", "bot", "bot", "connectors"]


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_knowledge_base_module_imports_bot_or_connectors(module):
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    offending = [f"{module.name}:{line} imports {name}"
                 for line, name in _imported_packages(tree) if name in FORBIDDEN]
    assert not offending, offending


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines reading os.environ / os.getenv (os.environ.setdefault, which only sets defaults, is allowed)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "environ":
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id in {"environ", "getenv"}:
            lines.append(node.lineno)
    setdefaults = {node.lineno for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and node.attr == "setdefault"
                   and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"}
    return [line for line in lines if line not in setdefaults]


def test_only_the_config_module_reads_the_environment():
    readers = {str(p.relative_to(PACKAGE)) for p in _modules()
               if _environment_reads(ast.parse(p.read_text(encoding="utf-8")))}
    assert readers == {"config.py"}


def test_from_env_reads_the_same_variables_with_the_same_defaults(tmp_path):
    assert KBConfig.from_env({}) == KBConfig()
    assert KBConfig().encoder_path == PACKAGE.parent / "models" / "encoder" / "multilingual-e5-small-bank"
    assert KBConfig().base_encoder_path == PACKAGE.parent / "models" / "encoder" / "multilingual-e5-small"
    assert KBConfig().index_dir == PACKAGE.parent / "models" / "kb_index"
    assert KBConfig().content_dir == PACKAGE / "content"
    assert (KBConfig().query_prefix, KBConfig().passage_prefix, KBConfig().reload_interval_s) == (
        "query: ", "passage: ", 2.0)
    assert KBConfig().user_dict == DEFAULT_USER_DICT == PACKAGE.parent / "intents" / "jieba" / "banking.txt"

    moved = KBConfig.from_env({"ASSISTANT_MODELS_DIR": str(tmp_path)})
    assert moved.encoder_path == tmp_path / "encoder" / "multilingual-e5-small-bank"
    assert moved.base_encoder_path == tmp_path / "encoder" / "multilingual-e5-small"
    assert moved.index_dir == tmp_path / "kb_index"

    chosen = KBConfig.from_env({"ASSISTANT_MODELS_DIR": str(tmp_path / "models"),
                                "KB_ENCODER_PATH": str(tmp_path / "bank-model"),
                                "KB_INDEX_DIR": str(tmp_path / "i"),
                                "KB_CONTENT_DIR": str(tmp_path / "c"), "KB_QUERY_PREFIX": "",
                                "KB_PASSAGE_PREFIX": "doc: ", "KB_RELOAD_INTERVAL_S": " 0.5 "})
    assert chosen == replace(KBConfig(), encoder_path=tmp_path / "bank-model", index_dir=tmp_path / "i",
                             base_encoder_path=tmp_path / "models" / "encoder" / "multilingual-e5-small",
                             content_dir=tmp_path / "c", query_prefix="", passage_prefix="doc: ",
                             reload_interval_s=0.5)


def test_a_bad_reload_interval_names_the_variable():
    with pytest.raises(ValueError, match="KB_RELOAD_INTERVAL_S='soon' must be a number"):
        KBConfig.from_env({"KB_RELOAD_INTERVAL_S": "soon"})


def test_bot_settings_take_their_knowledge_base_values_from_kbconfig(monkeypatch, tmp_path):
    from bot.settings import load_settings

    for name in KB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("KB_PASSAGE_PREFIX", "doc: ")
    monkeypatch.setenv("KB_RELOAD_INTERVAL_S", "7")
    settings = load_settings()
    assert settings.kb == KBConfig.from_env()
    assert (settings.index_dir, settings.passage_prefix, settings.kb_reload_interval_s) == (
        tmp_path / "kb_index", "doc: ", 7.0)


@pytest.fixture()
def explicit(settings, monkeypatch) -> KBConfig:
    """The real built artefacts named explicitly, while every KB variable points somewhere wrong."""
    config = KBConfig(encoder_path=settings.encoder_path, index_dir=settings.index_dir,
                      content_dir=settings.content_dir)
    for name in KB_VARIABLES:
        monkeypatch.setenv(name, "/nonexistent/kb-test")
    monkeypatch.setenv("KB_RELOAD_INTERVAL_S", "not a number")  # any read of it would raise
    return config


def test_an_encoder_and_a_retriever_are_built_from_an_explicit_config(explicit):
    from knowledge_base.embedding import embed_queries, load_encoder
    from knowledge_base.entries import lookup_entry
    from knowledge_base.live import LiveRetriever
    from knowledge_base.retriever import Retriever, load_retriever

    encoder = knowledge_base.load_encoder(config=explicit)
    assert encoder is load_encoder(explicit.encoder_path)
    assert embed_queries(encoder, ["开户"]).shape == (1, 384)

    for built in (knowledge_base.load_retriever(config=explicit), load_retriever(explicit),
                  LiveRetriever(explicit).current):
        assert isinstance(built, Retriever) and built.kb == explicit
        [hit] = built.search("信用卡的免息还款期最长多少天", k=1)
        assert hit.faq_id == "credit_card.interest_free_period"
        assert built.assess("信用卡的免息还款期最长多少天").decision == "answer"
    assert lookup_entry("transfer.arrival_time", explicit.index_dir)["id"] == "transfer.arrival_time"


def test_hits_and_lookups_carry_the_english_answer(content, explicit):
    from knowledge_base.entries import lookup_entry

    english = {e.id: e.answer_en for e in content.entries}
    built = knowledge_base.load_retriever(config=explicit)
    assert all(e.get("answer_en") == english[e["id"]] for e in built.entries)  # the index is current
    hits = built.search("How long is the interest-free period on a credit card?", k=3)
    assert hits[0].faq_id == "credit_card.interest_free_period"
    assert all(h.answer_en == english[h.faq_id] and h.answer_en != h.answer for h in hits)
    assessment = built.assess("信用卡的免息还款期最长多少天").as_dict()
    assert assessment["hits"][0]["answer_en"] == english["credit_card.interest_free_period"]
    assert "60 days" in assessment["hits"][0]["answer_en"]
    entry = lookup_entry("transfer.arrival_time", explicit.index_dir)
    assert entry["answer_en"] == english["transfer.arrival_time"] and entry["answer"] != entry["answer_en"]


def test_an_index_built_before_english_answers_still_serves(explicit, tmp_path):
    import json

    from knowledge_base.entries import lookup_entry
    from knowledge_base.index import CURRENT, current_version_dir
    from knowledge_base.retriever import Retriever

    version = current_version_dir(explicit.index_dir)
    old = tmp_path / "index" / version.name
    shutil.copytree(version, old)
    (old.parent / CURRENT).write_text(version.name)
    entries = json.loads((old / "entries.json").read_text(encoding="utf-8"))
    for entry in entries:
        entry.pop("answer_en")
    (old / "entries.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")

    [hit] = Retriever(old, explicit).search("信用卡的免息还款期最长多少天", k=1)
    assert hit.faq_id == "credit_card.interest_free_period" and hit.answer and hit.answer_en == ""
    assert lookup_entry("transfer.arrival_time", old.parent)["answer"]


def test_the_query_prefix_comes_from_the_config(explicit):
    from knowledge_base.embedding import embed_queries

    text = "转账多久到账"
    for prefix in ("query: ", ""):
        built = knowledge_base.load_retriever(config=replace(explicit, query_prefix=prefix))
        vector = embed_queries(built.encoder, [text], prefix=prefix)[0]
        expected = float((built.negatives @ vector).max())
        assert np.isclose(built.entry_scores(text).negative, expected, atol=1e-5)
    with_prefix, bare = (embed_queries(built.encoder, [text], prefix=p)[0] for p in ("query: ", ""))
    assert not np.allclose(with_prefix, bare, atol=1e-3)  # so the check above can tell them apart


def test_an_index_is_built_from_an_explicit_config(content, explicit, tmp_path):
    from knowledge_base.index import CURRENT, build_index

    target = replace(explicit, index_dir=tmp_path / "index")
    shutil.copytree(explicit.index_dir, target.index_dir)
    before = (target.index_dir / CURRENT).read_text()
    assert build_index(content, target).name == before  # same encoder, content and negatives: current


def test_the_lexical_user_dictionary_is_a_parameter(tmp_path):
    from knowledge_base.lexical import tokenize

    words = tmp_path / "words.txt"
    words.write_text("免息期多长 10 n\n", encoding="utf-8")
    assert "免息期多长" not in tokenize("信用卡免息期多长")
    assert "免息期多长" in tokenize("信用卡免息期多长", words)
