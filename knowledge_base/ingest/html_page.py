"""Web pages: the article only (not the site's header, breadcrumb, navigation or footer), tables with headers.

The main content is ``<article>`` (the largest, if several), else ``<main>``, else the body less its
navigation, header, footer and asides. Scripts, styles, forms and hidden elements never count (a
<form> that wraps the whole page, as ASP.NET sites do, is kept for what it holds).
"""
from __future__ import annotations

import re
from pathlib import Path

from knowledge_base.ingest.blocks import HEADING, PARAGRAPH, TITLE, Block, DocumentError
from knowledge_base.ingest.html_tables import table_blocks
from knowledge_base.ingest.structure import heading_level

NEVER_TEXT = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
              "button", "select", "input", "textarea", "nav", "aside", "dialog")
CONTENT_TAGS = ("article", "main", "p", "table", "h1", "h2", "h3")  # a <form> holding these wraps the page
SITE_CHROME = ("header", "footer")  # the site's, around the content; an article's own header stays
HEADINGS = {"h1": 0, "h2": 1, "h3": 2, "h4": 3, "h5": 3, "h6": 3}  # h1 is the title
BLOCK_TAGS = {"address", "article", "blockquote", "caption", "center", "dd", "details", "div", "dl", "dt",
              "fieldset", "figcaption", "figure", "footer", "header", "hr", "li", "main", "ol", "p", "pre",
              "section", "summary", "ul"}
_WIDE = r"[\u3000-\u9fff\uff00-\uffef]"  # Chinese characters and full-width punctuation
_LINE_BREAK_SPACE = re.compile(rf"(?<={_WIDE})[ \t\r\f]*\n\s*(?={_WIDE})")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def read_html(path: Path) -> list[Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "lxml")
    for tag in soup.find_all(NEVER_TEXT):
        tag.decompose()
    for tag in soup.find_all(_hidden):
        tag.decompose()
    for form in soup.find_all("form"):  # a search box or login form; not a page-wide ASP.NET <form>
        if form.find(CONTENT_TAGS) is None:
            form.decompose()
    root = _main_content(soup)
    blocks = _Walker().run(root)
    if not any(block.kind != TITLE for block in blocks):
        raise DocumentError.about(path.name, "no text found in the page's main content (article, main, body)",
                                  "check that the page was saved with its content, not a frame or scripts")
    if not any(block.kind == TITLE for block in blocks) and soup.title:
        title = re.split(r"\s+[|\-–—_]\s+", normalize(soup.title.get_text()))[0]
        blocks = ([Block(TITLE, title)] if title else []) + blocks
    return blocks


def normalize(text: str) -> str:
    """Whitespace as a browser shows it: runs collapse to one space; a source line break between
    Chinese characters disappears; explicit <br> breaks (as \\x00) stay line breaks."""
    text = _LINE_BREAK_SPACE.sub("", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\x00")).strip()


def _hidden(tag) -> bool:
    style = (tag.get("style") or "").replace(" ", "").lower()
    return tag.has_attr("hidden") or tag.get("aria-hidden") == "true" or "display:none" in style


def _main_content(soup):
    """The largest <article>, else <main>, else the body without the site's header and footer. Inside an
    article its own <header> (title, date) stays; its <footer> (share buttons, "next article") does not."""
    for name in ("article", "main"):
        found = soup.find_all(name) or (soup.find_all(attrs={"role": "main"}) if name == "main" else [])
        if found:
            root = max(found, key=lambda tag: len(tag.get_text(strip=True)))
            for tag in root.find_all("footer"):
                tag.decompose()
            return root
    root = soup.body or soup
    for tag in root.find_all(SITE_CHROME):
        tag.decompose()
    return root


class _Walker:
    """Blocks in document order: headings, paragraphs (text runs between block elements), table rows."""

    def __init__(self) -> None:
        self.out: list[Block] = []
        self.run_text: list[str] = []

    def run(self, root) -> list[Block]:
        self._walk(root)
        self._flush()
        if any(block.kind == HEADING and block.level for block in self.out):  # real headings: trust only them
            return [Block(PARAGRAPH, b.text) if b.kind == HEADING and not b.level else b for b in self.out]
        return self.out

    def _walk(self, node) -> None:
        from bs4 import Comment, NavigableString, Tag

        for child in node.children:
            if isinstance(child, Comment) or not isinstance(child, (NavigableString, Tag)):
                continue
            if isinstance(child, NavigableString):
                self.run_text.append(str(child))
            elif child.name in HEADINGS:
                self._heading(child)
            elif child.name == "table":
                self._flush()
                self._table(child)
            elif child.name == "br":
                self.run_text.append("\x00")
            elif child.name in BLOCK_TAGS:
                self._flush()
                self._walk(child)
                self._flush()
            else:
                self._walk(child)

    def _heading(self, tag) -> None:
        self._flush()
        text = normalize(tag.get_text()).replace("\n", " ")
        if text:
            level = HEADINGS[tag.name]
            self.out.append(Block(TITLE, text) if level == 0 else Block(HEADING, text, level=level))

    def _table(self, table) -> None:
        if table.find(["table", *HEADINGS]) is not None:  # a layout table: its cells are containers
            self._walk(table)
            return
        self.out.extend(table_blocks(table, normalize))

    def _flush(self) -> None:
        text = normalize("".join(self.run_text))
        self.run_text.clear()
        if text:
            self.out.append(Block(HEADING, text) if _looks_like_heading(text) else Block(PARAGRAPH, text))


def _looks_like_heading(text: str) -> bool:
    """A bare "一、总则" paragraph, in a page that has no <h2>…<h6> (its headings are styled paragraphs)."""
    return "\n" not in text and bool(heading_level(text)) and len(text) <= 20
