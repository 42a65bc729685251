from pathlib import Path

import pytest
import yaml

from knowledge_base.config import DEFAULT_DOCUMENT_TERMS
from knowledge_base.document_terms import DocumentTerms, TermsError
from knowledge_base.lexical import tokenize


def _terms(tmp_path: Path, table: dict) -> DocumentTerms:
    path = tmp_path / "terms.yml"
    path.write_text(yaml.safe_dump(table, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return DocumentTerms.load(path)


def test_customer_words_bring_the_documents_terms(tmp_path):
    terms = _terms(tmp_path, {"他行": ["别的银行", "other bank"], "异地": ["外地"], "取现": ["取钱", "withdraw"]})
    assert terms.terms_for("在外地用别的银行的卡取钱") == ["他行", "异地", "取现"]
    assert terms.expand("在外地取钱") == "在外地取钱 异地 取现"
    assert terms.terms_for("Can I WITHDRAW at another other bank?") == ["他行", "取现"]


def test_nothing_added_when_the_question_already_uses_the_term_or_no_word_matches(tmp_path):
    terms = _terms(tmp_path, {"他行": ["别的银行"], "年费": ["annual fee"]})
    assert terms.terms_for("他行取款，别的银行也一样吗") == []
    assert terms.expand("转账限额多少") == "转账限额多少"


def test_latin_words_match_whole_words_only(tmp_path):
    terms = _terms(tmp_path, {"手续费": ["fee"], "手机银行": ["app"]})
    assert terms.terms_for("a coffee at the apple store") == []
    assert terms.terms_for("what fee does the app charge") == ["手续费", "手机银行"]


@pytest.mark.parametrize("table, says", [
    (["他行"], "mapping"),
    ({"他行": "别的银行"}, "needs a list"),
    ({"他行": ["别"]}, "shorter than 2 characters"),
])
def test_a_malformed_table_says_what_to_fix(tmp_path, table, says):
    with pytest.raises(TermsError, match=says):
        _terms(tmp_path, table)


def test_no_table_adds_nothing(tmp_path):
    assert DocumentTerms.load(tmp_path / "absent.yml").expand("在外地取钱") == "在外地取钱"


def test_the_shipped_table_loads_and_its_terms_are_words_of_the_documents_register():
    terms = DocumentTerms.load(DEFAULT_DOCUMENT_TERMS)
    assert len(terms.pairs) > 100
    targets = {term for _, term in terms.pairs}
    assert all(tokenize(term) for term in targets)  # each one searchable (not a stopword)


def test_the_retriever_searches_the_documents_with_their_terms(retriever):
    documents = retriever.documents
    question = "abroad withdrawal fee"
    plain = documents.lexical.scores(question)
    searched = documents.lexical.scores(documents.terms.expand(question))
    assert plain.max() == 0 < searched.max()  # no English word is in the documents; 境外, 取现 and 手续费 are
    assert "境外" in documents.passages[int(searched.argmax())]["section"]
