"""Reading the bank's documents into passages, and refusing broken files with a reason (knowledge_base/ingest)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from knowledge_base.config import DEFAULT_DOCUMENTS_DIR
from knowledge_base.ingest import DocumentError, read_document
from knowledge_base.ingest.library import ingest_files

DOCS = DEFAULT_DOCUMENTS_DIR


@pytest.fixture(scope="module")
def read():
    return {path.name: read_document(path) for path in sorted(DOCS.iterdir()) if path.suffix != ".md"}


def _sections(passages) -> set[str]:
    return {p.section for p in passages}


def _unit(passages, *needles: str) -> str:
    """The one unit (sentence or table row) holding every needle."""
    found = [u for p in passages for u in p.units if all(n in u for n in needles)]
    assert found, f"no unit holds {needles}"
    return found[0]


def test_each_document_has_its_title_and_its_own_headings_as_sections(read):
    titles = {name: passages[0].title for name, passages in read.items()}
    assert titles == {"credit_card_agreement.docx": "示例银行信用卡领用合约（摘要）",
                      "fee_schedule_2026.html": "示例银行个人银行业务收费标准（2026年版）",
                      "mobile_banking_guide.pdf": "示例银行手机银行用户服务指南",
                      "wealth_wenxiang180.pdf": "示例银行“稳享180天”理财产品说明书"}
    assert {"4.4 最低还款额的计算", "8.2 挂失前72小时失卡保障", "10.1 交易争议"} <= _sections(read["credit_card_agreement.docx"])
    assert {"一、总则", "（一）境内跨行转账", "（二）境外取现", "八、减免与优惠政策"} <= _sections(read["fee_schedule_2026.html"])
    assert {"4.2 转账限额", "八、常见错误码", "6.3 亲情守护"} <= _sections(read["mobile_banking_guide.pdf"])
    assert {"第六章 投资冷静期", "5.1 费用项目及费率", "4.3 最短持有期与赎回"} <= _sections(read["wealth_wenxiang180.pdf"])
    section = next(p for p in read["fee_schedule_2026.html"] if p.section == "（一）境内跨行转账")
    assert section.chapter == "三、转账汇款类"


def test_pdf_pages_are_kept_and_running_headers_and_footers_are_gone(read):
    guide = read["mobile_banking_guide.pdf"]
    pages = {p.section: p.page for p in guide}
    assert pages["1.1 适用范围与运行环境"] == 1 and pages["九、安全提示与客户服务"] == 4
    for passages in read.values():
        for passage in passages:
            assert "示例银行股份有限公司" not in passage.text.splitlines()  # the running header line
            assert "共 4 页" not in passage.text
    assert all(p.page is None for p in read["fee_schedule_2026.html"] + read["credit_card_agreement.docx"])


def test_table_rows_carry_their_column_headers(read):
    limits = _unit(read["mobile_banking_guide.pdf"], "短信验证码", "2万元")
    assert limits.startswith("安全工具：短信验证码；单笔限额：2万元；日累计限额：5万元")
    code = _unit(read["mobile_banking_guide.pdf"], "E3008")
    assert "含义：超出夜间转账限额" in code and "处理建议：" in code
    # a wrapped last cell comes back whole
    assert "人脸识别暂停至次日" in _unit(read["mobile_banking_guide.pdf"], "E2011")
    fee = _unit(read["fee_schedule_2026.html"], "100万元以上")
    assert "柜面：转账金额的0.002%，最高200元/笔" in fee and "手机银行：免费" in fee
    instalment = _unit(read["credit_card_agreement.docx"], "24期", "0.68%")
    assert instalment == "分期期数：24期；每期手续费率：0.68%；折合年化利率（约）：14.96%"


def test_a_sentence_wrapped_across_pdf_lines_comes_out_whole(read):
    text = "\n".join(p.text for p in read["mobile_banking_guide.pdf"])
    assert "期间转账、理财购买等功能暂停使用" in text  # wrapped after "等功" in the PDF's text layer
    assert "请勿点击陌生短信中的链接" in text


def test_html_keeps_the_article_and_drops_the_site_around_it(read):
    text = "\n".join(p.text for p in read["fee_schedule_2026.html"])
    assert "首页 > 个人金融" not in text and "font-family" not in text
    assert "客户对扣费有异议的，可自扣费之日起90日内" in text


def _pdf_bytes(text: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    from io import BytesIO

    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_broken_files_are_refused_naming_the_file_and_the_fix(tmp_path):
    from docx import Document
    from pypdf import PdfReader, PdfWriter

    real = (DOCS / "mobile_banking_guide.pdf").read_bytes()
    cases = {}
    (tmp_path / "truncated.pdf").write_bytes(real[: len(real) // 3])
    cases["truncated.pdf"] = "not a readable PDF|no text layer"
    writer = PdfWriter(clone_from=PdfReader(DOCS / "mobile_banking_guide.pdf"))
    writer.encrypt("secret")
    with open(tmp_path / "locked.pdf", "wb") as handle:
        writer.write(handle)
    cases["locked.pdf"] = "encrypted"
    (tmp_path / "scan.pdf").write_bytes(_pdf_bytes())
    cases["scan.pdf"] = "no text layer"
    Document().save(tmp_path / "blank.docx")
    cases["blank.docx"] = "no text found"
    (tmp_path / "empty.html").write_bytes(b"")
    cases["empty.html"] = "empty"
    (tmp_path / "notes.txt").write_text("hello")
    cases["notes.txt"] = "unsupported file type .txt"
    (tmp_path / "fake.docx").write_bytes(b"PK\x03\x04 not really a zip")
    cases["fake.docx"] = "not a readable Word"
    for name, reason in cases.items():
        with pytest.raises(DocumentError, match=reason) as caught:
            read_document(tmp_path / name)
        assert name in str(caught.value)


def test_html_clutter_is_dropped_and_only_the_article_is_read(tmp_path):
    page = tmp_path / "notice.html"
    page.write_text("""<html><head><title>公告</title><style>p{color:red}</style>
        <script>var secret = "tracking";</script></head><body>
        <nav>首页 | 个人金融 | 关于我们</nav><header>示例银行</header>
        <article><h1>关于调整短信通知服务费的公告</h1><h2>一、调整内容</h2>
        <p>自2026年7月1日起，短信通知服务费调整为每月2元。</p><script>alert(1)</script></article>
        <aside>猜你喜欢：理财产品</aside><footer>版权所有</footer></body></html>""", encoding="utf-8")
    [passage] = read_document(page)
    assert (passage.title, passage.section) == ("关于调整短信通知服务费的公告", "一、调整内容")
    assert passage.text == "自2026年7月1日起，短信通知服务费调整为每月2元。"


def test_ingesting_skips_unreadable_files_and_is_idempotent(tmp_path):
    source, folder = tmp_path / "in", tmp_path / "documents"
    source.mkdir()
    (source / "fee_schedule_2026.html").write_bytes((DOCS / "fee_schedule_2026.html").read_bytes())
    (source / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (source / "README.md").write_text("not a document; skipped inside a folder")
    first = ingest_files([source], folder, progress=False)
    assert [row["doc"] for row in first.added] == ["fee_schedule_2026.html"] and first.added[0]["passages"] > 5
    assert len(first.errors) == 1 and "broken.pdf" in first.errors[0]
    assert sorted(p.name for p in folder.iterdir()) == ["fee_schedule_2026.html"]  # the broken file never entered
    again = ingest_files([source], folder, progress=False)
    assert (again.added, again.updated, again.unchanged) == ([], [], ["fee_schedule_2026.html"])


def test_the_cli_says_what_is_wrong_and_fails_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "knowledge_base", "ingest", str(tmp_path / "nowhere.pdf"),
                           "--documents", str(tmp_path / "docs")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "no such file or folder" in done.stderr and "Traceback" not in done.stderr
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps({"text": "x"}) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "knowledge_base", "eval-docs", "--set", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and '"doc"' in done.stderr and "Traceback" not in done.stderr
