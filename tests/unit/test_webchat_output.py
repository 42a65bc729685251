"""Bot text for the stock rasa-webchat widget (markdown) keeps its line breaks and characters."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from connectors.webchat.output import for_widget, markdown_text

# What our own widget does with it (connectors/webchat/static/widget.js, `plain`).
UNESCAPE = re.compile(r"\\([\\`*_\[\]~#>+\-.)])")


def widget_plain(markdown: str) -> str:
    return UNESCAPE.sub(r"\1", markdown.replace("  \n", "\n"))


def test_single_line_breaks_become_markdown_hard_breaks():
    text = "您的账户余额如下：\n尾号1234：CNY 可用余额 ¥1,000.00\n尾号5678：USD 可用余额 12.00"
    assert markdown_text(text) == ("您的账户余额如下：  \n尾号1234：CNY 可用余额 ¥1,000.00  \n"
                                   "尾号5678：USD 可用余额 12.00")


def test_paragraphs_stay_paragraphs():
    assert markdown_text("第一段\n\n第二段") == "第一段\n\n第二段"


def test_markdown_syntax_in_plain_text_is_escaped():
    converted = markdown_text("1. 身份证\n2) 户口本\n- 备注 *重要* a_b [链接](x)\n# 不是标题\n> 不是引用")
    assert converted.splitlines() == ["1\\. 身份证  ", "2\\) 户口本  ", "\\- 备注 \\*重要\\* a\\_b \\[链接\\](x)  ",
                                      "\\# 不是标题  ", "\\> 不是引用"]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=80))
def test_our_widget_gets_the_original_text_back(text):
    lines = [line.rstrip() for line in text.split("\n")]
    assert widget_plain(markdown_text(text)) == "\n".join(lines)


def test_payloads_are_marked_and_buttons_untouched():
    payload = for_widget({"text": "请选择：\n北京", "quick_replies": [{"title": "北京", "payload": "/inform"}]})
    assert payload["text"] == "请选择：  \n北京" and payload["metadata"] == {"markdown": True}
    assert payload["quick_replies"] == [{"title": "北京", "payload": "/inform"}]
    image = {"attachment": {"type": "image", "payload": {"src": "https://x/y.png"}}}
    assert for_widget(image) == image
