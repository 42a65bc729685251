"""Document parsing (knowledge_base/ingest): the bank's four documents come out as passages along their own
headings, with title, section, chapter, page and table rows that carry their headers; broken files are
refused with a DocumentError that names the file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge_base.ingest import DocumentError, Passage, read_document
from knowledge_base.ingest.blocks import HEADING, PARAGRAPH, ROW, TITLE, Block
from knowledge_base.ingest.pdf_lines import Line, lines_to_blocks
from knowledge_base.ingest.structure import MAX_PASSAGE_CHARS, heading_level, passages, sentences

DOCS = Path(__file__).resolve().parents[2] / "knowledge_base" / "documents"
GUIDE, WEALTH = "mobile_banking_guide.pdf", "wealth_wenxiang180.pdf"
FEES, CARD = "fee_schedule_2026.html", "credit_card_agreement.docx"


@pytest.fixture(scope="module")
def docs() -> dict[str, list[Passage]]:
    return {name: read_document(DOCS / name) for name in (GUIDE, WEALTH, FEES, CARD)}


def _sections(passages_: list[Passage]) -> set[str]:
    return {p.section for p in passages_}


def _unit(passages_: list[Passage], *needles: str) -> str:
    """The one unit (sentence or table row) that holds every needle."""
    found = [unit for p in passages_ for unit in p.units if all(needle in unit for needle in needles)]
    assert len(found) == 1, f"{len(found)} units hold {needles}: {found}"
    return found[0]


def _passage(passages_: list[Passage], *needles: str) -> Passage:
    found = [p for p in passages_ if all(needle in p.text for needle in needles)]
    assert len(found) == 1, f"{len(found)} passages hold {needles}"
    return found[0]


def _text(passages_: list[Passage]) -> str:
    return "\n".join(p.text for p in passages_)


# --- the four documents ---------------------------------------------------------------------------


def test_titles_come_from_the_documents_without_book_title_marks(docs):
    assert {name: {p.title for p in found} for name, found in docs.items()} == {
        GUIDE: {"示例银行手机银行用户服务指南"},
        WEALTH: {"示例银行“稳享180天”理财产品说明书"},
        FEES: {"示例银行个人银行业务收费标准（2026年版）"},
        CARD: {"示例银行信用卡领用合约（摘要）"},
    }
    assert all(p.doc == name for name, found in docs.items() for p in found)


def test_sections_are_the_documents_own_headings(docs):
    assert {"1.1 适用范围与运行环境", "2.2 注册步骤", "4.2 转账限额", "6.3 亲情守护", "八、常见错误码",
            "九、安全提示与客户服务"} <= _sections(docs[GUIDE])
    assert {"第一章 产品基本信息", "4.3 最短持有期与赎回", "5.1 费用项目及费率", "第六章 投资冷静期",
            "第九章 信息披露"} <= _sections(docs[WEALTH])
    assert {"一、总则", "二、账户管理类", "（一）境内跨行转账", "（二）境外取现", "九、附则"} <= _sections(docs[FEES])
    assert {"1.1 合约构成与适用范围", "4.4 最低还款额的计算", "6.2 分期手续费", "8.2 挂失前72小时失卡保障",
            "10.2 投诉与法律适用"} <= _sections(docs[CARD])


def test_chapter_is_the_enclosing_level_one_heading(docs):
    chapters = {(p.doc, p.section): p.chapter for found in docs.values() for p in found}
    assert chapters[FEES, "（一）境内跨行转账"] == "三、转账汇款类"
    assert chapters[FEES, "（一）境内取现"] == "四、现金服务类"
    assert chapters[FEES, "一、总则"] is None
    assert chapters[CARD, "4.4 最低还款额的计算"] == "第四章 账单与还款"
    assert chapters[GUIDE, "4.2 转账限额"] == "四、安全工具与转账限额"
    assert chapters[WEALTH, "2.1 目标客户"] == "第二章 目标客户与适用性管理"
    assert chapters[WEALTH, "第六章 投资冷静期"] is None


def test_text_before_the_first_heading_sits_under_the_title(docs):
    first = docs[FEES][0]
    assert (first.section, first.chapter) == (first.title, None)
    assert first.text.startswith("文件编号：示银发〔2025〕218号")


def test_running_headers_and_page_footers_are_gone(docs):
    for found in docs.values():
        for passage in found:
            assert "示例银行股份有限公司" not in passage.text.splitlines()
            assert "第 1 页 共 4 页" not in passage.text and "页 共 4 页" not in passage.text


def test_pdf_passages_keep_the_page_they_start_on(docs):
    pages = {(p.doc, p.section): p.page for found in (docs[GUIDE], docs[WEALTH]) for p in found}
    assert pages[GUIDE, "1.1 适用范围与运行环境"] == 1
    assert pages[GUIDE, "3.1 绑定数量上限"] == 2
    assert pages[GUIDE, "九、安全提示与客户服务"] == 4
    assert pages[WEALTH, "5.2 收益计算示例"] == 3
    assert pages[WEALTH, "第十章 其他事项"] == 4
    # the error-code table runs over a page break: its second passage starts on page 4
    assert [p.page for p in docs[GUIDE] if p.section == "八、常见错误码"] == [3, 4]
    assert all(p.page is None for p in docs[FEES] + docs[CARD])


def test_pdf_table_rows_carry_their_column_headers(docs):
    limit = _unit(docs[GUIDE], "短信验证码；", "2万元")
    assert limit == "安全工具：短信验证码；单笔限额：2万元；日累计限额：5万元；年累计限额：50万元"
    error = _unit(docs[GUIDE], "E3008")
    assert error == "错误码：E3008；含义：超出夜间转账限额；处理建议：设置预约转账，于次日6:00后执行"
    fee = _unit(docs[WEALTH], "超额业绩报酬")  # first row after the page break
    assert fee == ("费用项目：超额业绩报酬；费率（年化）：年化收益率超过3.20%部分的40%；"
                   "计提及支付方式：赎回时或产品终止时计提；收取方：管理人")


def test_a_wrapped_last_cell_comes_back_into_its_row(docs):
    assert _unit(docs[GUIDE], "E2011").endswith("处理建议：在光线充足处摘下帽子、眼镜后重试；当日连续失败3次的，人脸识别暂停至次日")
    assert _unit(docs[GUIDE], "跨日累计连续输错10次").endswith("或本人携身份证到网点办理")
    assert _unit(docs[WEALTH], "产品终止及清算报告").endswith("清算资金于终止日后5个工作日内划回客户账户")


def test_a_table_header_repeated_after_a_page_break_is_not_a_row(docs):
    units = [unit for found in (docs[GUIDE], docs[WEALTH]) for p in found for unit in p.units]
    assert not [u for u in units if "错误码：错误码" in u or "情形：情形" in u or "费用项目：费用项目" in u]
    assert len([u for p in docs[GUIDE] if p.section == "八、常见错误码" for u in p.units]) == 14


def test_a_pdf_key_value_table_reads_key_then_value(docs):
    basics = [p for p in docs[WEALTH] if p.section == "第一章 产品基本信息"]
    units = [unit for p in basics for unit in p.units]
    assert "风险等级：PR2级（中低风险）。本评级为管理人内部评级，仅供参考" in units
    assert "托管人 / 销售机构：示例银行股份有限公司" in units
    assert len(units) == 14


def test_html_and_docx_table_rows_carry_their_column_headers(docs):
    band = _unit(docs[FEES], "100万元以上")
    assert band == ("单笔转账金额：100万元以上；柜面：转账金额的0.002%，最高200元/笔；自助设备：不提供；"
                    "个人网上银行：10元/笔；手机银行：免费")
    # a cell merged over two rows (rowspan) belongs to both
    platinum = _unit(docs[FEES], "卡种：臻享白金卡")
    assert "限额：每卡每日累计不超过等值人民币1万元" in platinum
    assert "备注：另收押金1,000元/箱" in _unit(docs[FEES], "保管箱租金（大型）")
    assert _unit(docs[CARD], "24期；") == "分期期数：24期；每期手续费率：0.68%；折合年化利率（约）：14.96%"


def test_notes_after_a_table_stay_in_its_section(docs):
    assert _passage(docs[FEES], "注4：代发工资客户每自然月前5笔柜面跨行转账免收手续费").section == "（一）境内跨行转账"
    assert _passage(docs[GUIDE], "注3：II类账户向非绑定账户转账").section == "4.2 转账限额"
    assert _passage(docs[WEALTH], "注2：募集期认购的份额").section == "5.1 费用项目及费率"


def test_sentences_wrapped_across_pdf_lines_come_out_whole(docs):
    guide, wealth = _text(docs[GUIDE]), _text(docs[WEALTH])
    assert "期间转账、理财购买等功能暂停使用，账户查询不受影响。" in guide  # wrapped after "等功"
    assert "请勿点击陌生短信中的链接下载任何“手机银行”安装包。" in guide  # wrapped after "陌生短"
    assert "有效期3年，到期前30天可在线更新。" in guide  # wrapped in an indented list
    assert "最短持有期到期日为2026年10月5日，遇法定节假日" in wealth  # the line broke early before a date
    assert "折合年化收益率约2.88%。" in wealth
    # but a line that ends a paragraph is not glued to the next one
    assert "更新日期：2026年3月1日\n安全提示：" in guide
    assert "2026年3月20日\n重要提示：" in wealth


def test_numbered_steps_stay_separate_lines(docs):
    steps = _passage(docs[GUIDE], "打开手机银行").text.splitlines()
    assert [line[:2] for line in steps[:6]] == ["1.", "2.", "3.", "4.", "5.", "6."]


def test_html_boilerplate_is_dropped(docs):
    text = _text(docs[FEES])
    assert "首页 > 个人金融" not in text and "版权所有" not in text and "font-family" not in text
    assert "客户对扣费有异议的，可自扣费之日起90日内" in text


def test_headings_are_not_passage_text(docs):
    for found in docs.values():
        headings = _sections(found) | {p.chapter for p in found if p.chapter}
        for passage in found:
            assert not set(passage.text.splitlines()) & headings, passage.section


def test_passages_are_short_and_units_are_whole_sentences_or_rows(docs):
    for found in docs.values():
        for passage in found:
            assert passage.text and passage.units
            assert all(unit and unit.strip() == unit for unit in passage.units)
            assert len(passage.text) <= MAX_PASSAGE_CHARS + 20
            assert "".join(passage.units) == passage.text.replace("\n", "")
    assert "2. 输入本人借记卡或信用卡卡号及身份证号码；" in [u for p in docs[GUIDE] for u in p.units]
    split = [p for p in docs[FEES] if p.section == "二、账户管理类"]
    assert len(split) == 2 and {p.chapter for p in split} == {None}
    assert split[0].text.startswith("表1") and split[1].text.startswith("注1：")  # the table stays whole


def test_passages_are_json_and_deterministic(docs):
    again = read_document(DOCS / GUIDE)
    assert again == docs[GUIDE]
    row = json.loads(json.dumps(docs[GUIDE][0].as_dict(), ensure_ascii=False))
    assert set(row) == {"doc", "title", "section", "chapter", "page", "text", "units"}
    assert isinstance(row["units"], list)


# --- blocks to passages ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, level", [
    ("第一章 总则", 1), ("一、概述", 1), ("（一）境内跨行转账", 2), ("1.1 适用范围与运行环境", 2),
    ("4.4 最低还款额的计算", 2), ("1.1.1 细则", 3), ("第二节 申请", 2),
    ("1. 打开手机银行，点击首页右上角", 0), ("2.88%。本示例仅为说明计算方法", 0), ("一、二、三类账户均可办理。", 0),
    ("注1：上表为本行默认最高限额", 0), ("示例银行", 0),
])
def test_heading_level_from_numbering(text, level):
    assert heading_level(text) == level


def test_in_a_document_with_chapters_the_chinese_numbered_headings_are_sections():
    blocks = [Block(HEADING, "第一章 总则"), Block(HEADING, "一、适用范围"), Block(PARAGRAPH, "本章适用于个人客户。")]
    [passage] = passages("x.pdf", blocks)
    assert (passage.section, passage.chapter, passage.title) == ("一、适用范围", "第一章 总则", "x")
    assert heading_level("一、适用范围", under_chapters=True) == 2


def test_stated_levels_win_and_a_heading_without_text_gives_no_passage():
    blocks = [Block(TITLE, "《借记卡章程》"), Block(PARAGRAPH, "前言文字。"), Block(HEADING, "总则", level=1),
              Block(HEADING, "定义", level=2), Block(PARAGRAPH, "借记卡是……。"), Block(HEADING, "附则", level=1),
              Block(PARAGRAPH, "本章程自发布之日起施行。")]
    found = passages("card.docx", blocks)
    assert [(p.title, p.section, p.chapter, p.text) for p in found] == [
        ("借记卡章程", "借记卡章程", None, "前言文字。"),
        ("借记卡章程", "定义", "总则", "借记卡是……。"),
        ("借记卡章程", "附则", None, "本章程自发布之日起施行。"),
    ]


def test_a_long_section_becomes_several_passages_at_paragraph_and_row_boundaries():
    paragraph = "本行根据申请人的资信状况核定信用额度，并可调整。" * 6  # 150 characters
    rows = [Block.row((f"{n}期", f"0.{n}%"), ("期数", "费率")) for n in range(1, 30)]
    blocks = [Block(HEADING, "一、额度"), *[Block(PARAGRAPH, paragraph) for _ in range(3)], *rows,
              Block(PARAGRAPH, "注：费率按月计收。")]
    found = passages("x.docx", blocks)
    assert len(found) > 1 and {(p.section, p.chapter) for p in found} == {("一、额度", None)}
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in found)
    assert [u for p in found for u in p.units].count("期数：7期；费率：0.7%") == 1


def test_a_paragraph_longer_than_a_passage_is_cut_between_sentences():
    long = "".join(f"第{n}句话讲一件事情，讲得很清楚。" for n in range(60))
    found = passages("x.html", [Block(HEADING, "一、说明"), Block(PARAGRAPH, long)])
    assert len(found) > 1 and "".join(p.text for p in found) == long
    assert all(p.text.endswith("。") for p in found)


def test_sentences_split_after_chinese_stops_and_keep_closing_quotes():
    assert sentences("选择“新用户注册”。输入卡号；完成！\n第二行") == ["选择“新用户注册”。", "输入卡号；", "完成！", "第二行"]
    assert sentences("他说：“可以。”然后离开。") == ["他说：“可以。”", "然后离开。"]
    assert sentences("版本8.0及以上") == ["版本8.0及以上"]


# --- PDF lines to blocks ---------------------------------------------------------------------------

FULL = "本行工作人员不会以任何理由向您索要短信验证码、登录密码或要求您进行屏幕共享。请勿点击陌"


def _lines(*texts: str, page: int = 1) -> list[Line]:
    return [Line(text, page) for text in texts]


def test_pdf_lines_join_wrapped_lines_but_not_new_items():
    blocks = lines_to_blocks(_lines(FULL, "生短信中的链接。", "1. 第一步；", "2. 第二步，", "注1：说明。", FULL, FULL,
                                    "完。"))
    assert [b.text for b in blocks] == [FULL + "生短信中的链接。", "1. 第一步；", "2. 第二步，", "注1：说明。",
                                        FULL + FULL + "完。"]


def test_pdf_lines_make_rows_under_a_header_and_skip_the_repeated_header():
    lines = _lines("错误码 含义 处理建议", "E1001 网络连接超时 检查网络后重试", FULL) + _lines(
        "错误码 含义 处理建议", "E1012 登录密码错误 留意剩余尝试次数，可通过 忘记密码 重置",
        "E2011 人脸识别未通过 在光线充足处摘下帽子、眼镜后重试；当日连续失败3次的，人脸识别暂停", "至次日",
        "注：以上为常见错误码。", page=2)
    blocks = lines_to_blocks(lines)
    rows = [b for b in blocks if b.kind == ROW]
    assert [b.cells for b in rows] == [
        ("E1001", "网络连接超时", "检查网络后重试"),
        ("E1012", "登录密码错误", "留意剩余尝试次数，可通过 忘记密码 重置"),
        ("E2011", "人脸识别未通过", "在光线充足处摘下帽子、眼镜后重试；当日连续失败3次的，人脸识别暂停至次日"),
    ]
    assert rows[0].text == "错误码：E1001；含义：网络连接超时；处理建议：检查网络后重试" and rows[1].page == 2
    assert blocks[-1] == Block(PARAGRAPH, "注：以上为常见错误码。", page=2)


def test_pdf_lines_of_short_labels_without_rows_below_are_text():
    blocks = lines_to_blocks(_lines(FULL, "生短信。", "示例银行股份有限公司 电子银行部", "2026年3月"))
    assert [(b.kind, b.text) for b in blocks[1:]] == [(PARAGRAPH, "示例银行股份有限公司 电子银行部"),
                                                      (PARAGRAPH, "2026年3月")]


# --- broken and odd files --------------------------------------------------------------------------


def _refused(path: Path, reason: str) -> str:
    with pytest.raises(DocumentError, match=reason) as caught:
        read_document(path)
    assert path.name in str(caught.value)
    return str(caught.value)


def test_a_truncated_pdf_is_refused(tmp_path):
    real = (DOCS / GUIDE).read_bytes()
    (tmp_path / "half.pdf").write_bytes(real[: len(real) // 2])
    assert "again" in _refused(tmp_path / "half.pdf", "truncated")
    (tmp_path / "page.pdf").write_bytes(b"<html>404 Not Found</html>")
    _refused(tmp_path / "page.pdf", "not a readable PDF")


def test_an_encrypted_pdf_is_refused_but_one_only_restricted_by_its_owner_is_read(tmp_path):
    from pypdf import PdfReader, PdfWriter

    locked = PdfWriter(clone_from=PdfReader(DOCS / GUIDE))
    locked.encrypt("secret")
    locked.write(tmp_path / "locked.pdf")
    assert "unprotected copy" in _refused(tmp_path / "locked.pdf", "encrypted")
    restricted = PdfWriter(clone_from=PdfReader(DOCS / GUIDE))
    restricted.encrypt(user_password="", owner_password="owner")
    restricted.write(tmp_path / "restricted.pdf")
    assert _sections(read_document(tmp_path / "restricted.pdf")) == _sections(read_document(DOCS / GUIDE))


def test_a_pdf_with_no_text_layer_is_refused_as_a_scan(tmp_path):
    from pypdf import PdfWriter

    blank = PdfWriter()
    blank.add_blank_page(width=595, height=842)
    blank.write(tmp_path / "scan.pdf")
    assert "OCR" in _refused(tmp_path / "scan.pdf", "no text layer")


def test_a_pdf_without_a_metadata_title_takes_its_largest_first_page_text(tmp_path):
    from pypdf import PdfReader, PdfWriter

    copy = PdfWriter(clone_from=PdfReader(DOCS / WEALTH))
    copy.metadata = None
    copy.write(tmp_path / "untitled.pdf")
    assert {p.title for p in read_document(tmp_path / "untitled.pdf")} == {"示例银行“稳享180天”理财产品说明书"}


def test_a_word_file_without_text_or_not_a_word_file_is_refused(tmp_path):
    from docx import Document

    Document().save(tmp_path / "blank.docx")
    _refused(tmp_path / "blank.docx", "no text found")
    (tmp_path / "fake.docx").write_bytes(b"PK\x03\x04 not really a zip")
    _refused(tmp_path / "fake.docx", "not a readable Word")
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(600))
    _refused(tmp_path / "old.docx", "Word 97-2003")


def test_only_the_article_of_a_cluttered_page_is_read(tmp_path):
    page = tmp_path / "notice.html"
    page.write_text("""<html><head><title>公告 - 示例银行</title><style>p{color:red}</style>
        <script>var secret = "tracking";</script></head><body>
        <nav>首页 | 个人金融 | 关于我们</nav><header>示例银行</header>
        <article><h1>关于调整短信通知服务费的公告</h1><h2>一、调整内容</h2>
        <p>自2026年7月1日起，短信通知服务费
        调整为每月2元。</p><script>alert("in the article")</script><noscript>请启用脚本</noscript>
        <p hidden>隐藏的文字</p></article>
        <aside>猜你喜欢：理财产品</aside><footer>版权所有</footer></body></html>""", encoding="utf-8")
    [passage] = read_document(page)
    assert (passage.title, passage.section, passage.chapter) == ("关于调整短信通知服务费的公告", "一、调整内容", None)
    assert passage.text == "自2026年7月1日起，短信通知服务费调整为每月2元。"


def test_a_page_without_an_article_is_read_from_its_body_less_the_site_around_it(tmp_path):
    page = tmp_path / "rates.html"
    page.write_text("""<html><head><title>存款利率 | 示例银行</title></head><body><header><h1>示例银行</h1></header>
        <nav>首页</nav><div><p><strong>一、活期存款</strong></p><div>年利率0.10%。<br>按季结息。</div>
        <table><tr><th>起存金额</th><td>50元</td></tr></table></div><footer>版权所有</footer></body></html>""",
                    encoding="utf-8")
    [passage] = read_document(page)
    assert (passage.title, passage.section) == ("存款利率", "一、活期存款")
    assert passage.units == ("年利率0.10%。", "按季结息。", "起存金额：50元")


def test_a_page_with_no_main_text_is_refused(tmp_path):
    page = tmp_path / "app.html"
    page.write_text("<html><body><nav>首页</nav><script>render()</script><div id='root'></div></body></html>")
    _refused(page, "no text found in the page's main content")


def test_empty_and_unsupported_files_are_refused(tmp_path):
    for name in ("empty.pdf", "empty.docx", "empty.html"):
        (tmp_path / name).write_bytes(b"")
        _refused(tmp_path / name, "empty")
    (tmp_path / "notes.txt").write_text("你好", encoding="utf-8")
    _refused(tmp_path / "notes.txt", "unsupported file type .txt")
    (tmp_path / "rates.xlsx").write_bytes(b"PK\x03\x04")
    _refused(tmp_path / "rates.xlsx", "unsupported file type .xlsx")
    _refused(tmp_path / "missing.pdf", "no such file")
