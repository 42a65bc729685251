"""The bank's own documents (PDF, Word, web pages) as passages the assistant can answer from with a citation.

Each reader (pdf.py + pdf_lines.py, docx_file.py, html_page.py + html_tables.py) turns one format into
blocks (blocks.py); structure.py turns blocks into passages along the document's own headings;
reader.py (``read_document``) picks the reader and turns any failure into a DocumentError that says
what to do. library.py (the documents folder) and cli.py (``ingest``) build on it. docs/documents.md
explains the choices.
"""
from knowledge_base.ingest.blocks import DocumentError
from knowledge_base.ingest.reader import read_document
from knowledge_base.ingest.structure import Passage

__all__ = ["DocumentError", "Passage", "read_document"]
